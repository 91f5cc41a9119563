// Integration and conformance tests start real brokers' consumers and Python workers: give them
// time. (`testTimeout` inside a jest project config is not honoured; jest.setTimeout is.)
jest.setTimeout(Number(process.env.CELERY_WIRE_TEST_TIMEOUT_MS ?? 300_000));
