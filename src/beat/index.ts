export { Beat, type BeatOptions, type BeatSender, type BeatLogger } from './beat';
export {
  crontab,
  every,
  CrontabSchedule,
  IntervalSchedule,
  type BeatSchedule,
  type CrontabSpec,
} from './schedules';
export { CrontabParseError } from './crontab-parser';
export { solar, SolarSchedule, SOLAR_EVENTS, type SolarEvent } from './solar/solar';
export { FileBeatStore } from './file-store';
export { RedBeatStore, type RedBeatOptions } from './redis-redbeat-store';
export type { BeatEntry, BeatStore, BeatLock, BeatCandidate } from './store';
export { BeatPidbox, beatNodename, type BeatPidboxOptions } from './beat-pidbox';
