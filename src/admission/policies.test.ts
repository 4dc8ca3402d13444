import { describe, expect, it } from 'vitest';
import { parseAdmissionConfig } from './config.js';
import { cpuBandPolicy, deadlinePolicy, evaluateLoadPolicies, memoryPolicy, policyCpu, priorityPolicy } from './policies.js';
import { load } from './test/helpers.js';

const config = parseAdmissionConfig({});
const never = (): number => {
  throw new Error('random() must not be drawn here');
};

describe('priority policy: uploads only, CPU strictly above 90 %', () => {
  it.each([
    [0, null],
    [89.9, null],
    [90, null],
    [90.1, 'priority'],
    [100, 'priority'],
    [NaN, null],
  ])('upload at %s %% CPU -> %s', (cpu, reason) => {
    expect(priorityPolicy(config.priority, 'upload', load(cpu))?.reason ?? null).toBe(reason);
  });

  it.each([0, 90, 90.1, 100, 150])('never sheds a download (CPU %s %%)', (cpu) => {
    expect(priorityPolicy(config.priority, 'download', load(cpu))).toBeNull();
  });

  it('disabled: never sheds', () => {
    expect(priorityPolicy({ ...config.priority, enabled: false }, 'upload', load(100))).toBeNull();
  });
});

describe('memory policy: both kinds, strictly above 90 % used', () => {
  it.each([
    [0, null],
    [89.9, null],
    [90, null],
    [90.1, 'memory'],
    [100, 'memory'],
    [NaN, null],
  ])('at %s %% used -> %s', (mem, reason) => {
    for (const kind of ['upload', 'download'] as const) {
      expect(memoryPolicy(config.memory, load(0, mem))?.reason ?? null, kind).toBe(reason);
      expect(evaluateLoadPolicies(config, kind, load(0, mem), never)?.reason ?? null, kind).toBe(reason);
    }
  });

  it('disabled: never sheds', () => {
    expect(memoryPolicy({ ...config.memory, enabled: false }, load(0, 100))).toBeNull();
  });
});

describe('cpu-band policy', () => {
  it('sheds exactly when random() < p', () => {
    // download at 95 %: p = 0.25
    expect(cpuBandPolicy(config.cpuBands, 'download', load(95), () => 0.2499)?.reason).toBe('cpu-band');
    expect(cpuBandPolicy(config.cpuBands, 'download', load(95), () => 0.25)).toBeNull();
  });

  it('draws no randomness where p = 0, and none when disabled', () => {
    expect(cpuBandPolicy(config.cpuBands, 'upload', load(70), never)).toBeNull();
    expect(cpuBandPolicy({ ...config.cpuBands, enabled: false }, 'upload', load(100), never)).toBeNull();
  });
});

describe('evaluation order: memory, priority, cpu-band', () => {
  it('the first policy that sheds wins and later ones are not consulted', () => {
    expect(evaluateLoadPolicies(config, 'upload', load(100, 100), never)?.reason).toBe('memory');
    expect(evaluateLoadPolicies(config, 'upload', load(100, 0), never)?.reason).toBe('priority');
    expect(evaluateLoadPolicies(config, 'download', load(100, 0), () => 0)?.reason).toBe('cpu-band');
    expect(evaluateLoadPolicies(config, 'download', load(100, 0), () => 0.99)).toBeNull();
  });

  it('with every load policy disabled nothing sheds, whatever the load', () => {
    const off = parseAdmissionConfig({ priority: { enabled: false }, cpuBands: { enabled: false }, memory: { enabled: false } });
    for (const kind of ['upload', 'download'] as const) expect(evaluateLoadPolicies(off, kind, load(100, 100), never)).toBeNull();
  });
});

describe('deadline policy: shed when remaining < expected wait + service', () => {
  const d = { ...config.deadline, margin: 1 };
  it('asks for a margin by default: 1.5 x (wait + service)', () => {
    expect(config.deadline.margin).toBe(1.5);
    expect(deadlinePolicy(config.deadline, 29.9, 15, 5)?.reason).toBe('deadline');
    expect(deadlinePolicy(config.deadline, 30, 15, 5)).toBeNull();
  });
  it.each([
    [19.9, 'deadline'],
    [20, null],
    [1000, null],
    [0, 'deadline'],
    [-5, 'deadline'],
    [undefined, null],
    [Infinity, null],
    [NaN, null],
  ])('remaining %s ms with wait 15 + service 5 -> %s', (remaining, reason) => {
    expect(deadlinePolicy(d, remaining, 15, 5)?.reason ?? null).toBe(reason);
  });

  it('disabled: never sheds', () => {
    expect(deadlinePolicy({ ...d, enabled: false }, 0, 15, 5)).toBeNull();
  });
});

describe('the CPU figure the policies read', () => {
  const sample = (cpuPercent: number, processCpuPercent: number, eventLoopPercent = Number.NaN) => ({
    cpuPercent,
    memUsedPercent: 0,
    processCpuPercent,
    eventLoopPercent,
    atMs: 0,
  });

  it('is the busiest of machine, process and event loop by default: a saturated node sheds on an idle machine', () => {
    expect(policyCpu('busier', sample(40, 97))).toBe(97);
    expect(policyCpu('busier', sample(96, 10))).toBe(96);
    expect(policyCpu('busier', sample(Number.NaN, 50))).toBe(50);
    expect(policyCpu('busier', sample(30, Number.NaN))).toBe(30);
    expect(policyCpu('machine', sample(40, 97))).toBe(40);
    const cfg = parseAdmissionConfig({});
    expect(evaluateLoadPolicies(cfg, 'upload', sample(40, 95), () => 0.99)).toMatchObject({ reason: 'priority' });
    expect(evaluateLoadPolicies(parseAdmissionConfig({ cpuSignal: 'machine' }), 'upload', sample(40, 95), () => 0.99)).toBeNull();
  });

  it('counts a node starved on a shared core: half a core of CPU, but an event loop busy all the time', () => {
    expect(policyCpu('busier', sample(68, 54, 99))).toBe(99);
    expect(policyCpu('busier', sample(Number.NaN, Number.NaN, 42))).toBe(42);
    expect(policyCpu('busier', sample(Number.NaN, Number.NaN, Number.NaN))).toBeNaN();
    expect(policyCpu('machine', sample(68, 54, 99))).toBe(68);
    const cfg = parseAdmissionConfig({});
    expect(evaluateLoadPolicies(cfg, 'upload', sample(68, 54, 99), () => 0.99)).toMatchObject({ reason: 'priority' });
    expect(evaluateLoadPolicies(cfg, 'upload', sample(68, 54, 60), () => 0.99)).toBeNull();
  });
});
