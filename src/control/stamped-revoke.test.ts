import { matchStamps, stampedRevokeHandler, stampRevocation } from './stamped-revoke';

describe('revoke_by_stamped_headers', () => {
  it('records CLI key=value lists and dicts; replies as Celery 5.7', async () => {
    const added: unknown[] = [];
    const h = stampedRevokeHandler({
      addRevokedStamps: (x) => added.push(x),
      terminateStamped: () => new Map([['mtask_id', ['a']]]),
    });
    expect(await h({ headers: ['mtask_id=a'] })).toEqual({
      ok: "headers {'mtask_id': 'a'} flagged as revoked, but not terminated",
    });
    expect(await h({ headers: { mtask_id: ['a'] }, terminate: 1 })).toEqual({
      ok: "headers defaultdict(<class 'set'>, {'mtask_id': {'a'}}) revoked",
    });
    expect(added).toEqual([{ mtask_id: 'a' }, { mtask_id: ['a'] }]);
  });
  it('Request.revoked by header: scalar and list stamps', () => {
    const revoked = new Map([['mtask_id', ['a', 'b']]]);
    expect(stampRevocation(revoked, ['mtask_id'], { mtask_id: 'b' })).toEqual({ mtask_id: 'b' });
    expect(stampRevocation(revoked, ['mtask_id'], { mtask_id: ['x', 'a'] })).toEqual({
      mtask_id: 'a',
    });
    expect(stampRevocation(revoked, ['other'], { other: 'a' })).toBeNull();
    expect(stampRevocation(revoked, ['mtask_id'], null)).toBeNull();
    expect(matchStamps({ mtask_id: ['a', 'z'] }, { mtask_id: ['a', 'b'] })).toEqual(
      new Map([['mtask_id', ['a']]]),
    );
  });
});
