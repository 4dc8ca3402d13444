import { describe, expect, it } from 'vitest';
import { AdmissionConfigError, parseAdmissionConfig, patchAdmissionConfig } from './config.js';

const b = (from: number, to: number, fromInclusive: boolean, toInclusive: boolean, shed: number) => ({ from, to, fromInclusive, toInclusive, shed });

describe('admission config', () => {
  it("defaults are the seed system's rules, exactly", () => {
    expect(parseAdmissionConfig({})).toEqual({
      workers: 3,
      uploadQueue: 64,
      downloadQueue: 512,
      downloadsPerUpload: 8,
      cpuSignal: 'busier',
      priority: { enabled: true, cpuAbovePercent: 90 },
      cpuBands: {
        enabled: true,
        download: [b(95, 100, true, true, 0.25), b(90, 95, true, false, 0.1), b(85, 90, true, false, 0.05), b(0, 85, true, false, 0)],
        upload: [b(80, 100, true, true, 0.25), b(75, 80, true, false, 0.1), b(70, 75, false, false, 0.05), b(0, 70, true, true, 0)],
      },
      memory: { enabled: true, usedAbovePercent: 90 },
      deadline: { enabled: true, margin: 1.5, ewmaAlpha: 0.2, initialServiceMs: { upload: 50, download: 5 } },
      retryAfterMs: { base: 200, max: 5000 },
    });
    expect(parseAdmissionConfig(undefined).workers).toBe(3);
  });

  it.each([
    [{ workers: 0 }, 'workers'],
    [{ uploadQueue: -1 }, 'uploadQueue'],
    [{ cpuBands: { upload: [b(0, 100, true, true, 1.5)] } }, 'cpuBands.upload.0.shed'],
    [{ cpuBands: { download: [b(0, 101, true, true, 0.1)] } }, 'cpuBands.download.0.to'],
    [{ cpuBands: { download: [b(60, 50, true, true, 0.1)] } }, 'cpuBands.download.0.to'],
    [{ memory: { usedAbovePercent: 'high' } }, 'memory.usedAbovePercent'],
    [{ deadline: { ewmaAlpha: 0 } }, 'deadline.ewmaAlpha'],
    [{ retryAfterMs: { base: 6000 } }, 'retryAfterMs.max'],
  ])('rejects %j naming %s', (input, field) => {
    expect(() => parseAdmissionConfig(input)).toThrow(AdmissionConfigError);
    expect(() => parseAdmissionConfig(input)).toThrow(new RegExp(`${field.replace(/\./g, '\\.')}: `));
  });

  it('a patch merges section by section and replaces band lists whole', () => {
    const base = parseAdmissionConfig({});
    const next = patchAdmissionConfig(base, { memory: { enabled: false }, cpuBands: { upload: [b(0, 100, true, true, 1)] } });
    expect(next.memory).toEqual({ enabled: false, usedAbovePercent: 90 });
    expect(next.cpuBands.upload).toEqual([b(0, 100, true, true, 1)]);
    expect(next.cpuBands.download).toEqual(base.cpuBands.download);
    expect(base.memory.enabled).toBe(true); // the base is not mutated
    expect(() => patchAdmissionConfig(base, { workers: 0 })).toThrow(/workers/);
  });
});
