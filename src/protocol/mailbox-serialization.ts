import type { CeleryProfile } from './profiles';

/** The remote-control mailbox's serializer and accepted content of a line (see the field). */
export function mailboxSerialization(
  profile: CeleryProfile,
  config: { taskSerializer: string; acceptContent: readonly string[] },
): { serializer: string; accept: readonly string[] } {
  return profile.mailboxFollowsTaskSerializer === true
    ? { serializer: config.taskSerializer, accept: config.acceptContent }
    : { serializer: 'json', accept: ['json'] };
}
