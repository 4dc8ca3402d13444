import { describe, expect, it } from 'vitest';
import { ShedError } from './errors.js';
import { harness } from './test/helpers.js';
import { recorder } from './test/recorder.js';

describe('a queued request that can no longer finish in time', () => {
  it('is refused when its turn comes, without running, if less than its service time remains', async () => {
    const { ctl, clock } = harness({ workers: 1, deadline: { margin: 1 } }); // download service estimate: 5 ms
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download');
    const tooLate = r.submit('too-late', 'download', 14); // admitted: at t=0 it needs 5 + 5 = 10 ms
    void r.submit('in-time', 'download', 30);
    await r.finish('d0', 10); // t = 10: 4 ms left for too-late, less than the 5 it needs
    await expect(tooLate).rejects.toBeInstanceOf(ShedError);
    await expect(tooLate).rejects.toMatchObject({ reason: 'deadline' });
    expect(r.started).toEqual(['d0', 'in-time']);
    expect(ctl.snapshot().kinds.download.expiredInQueue).toBe(1);
    await r.finish('in-time', 5);
    await expect(r.outcomes.get('in-time')).resolves.toBe('in-time');
  });

  it('is run when the deadline policy is off', async () => {
    const { ctl, clock } = harness({ workers: 1, deadline: { enabled: false } });
    const r = recorder(ctl, clock);
    void r.submit('d0', 'download');
    void r.submit('late', 'download', 12);
    await r.finish('d0', 10);
    expect(r.started).toEqual(['d0', 'late']);
  });
});
