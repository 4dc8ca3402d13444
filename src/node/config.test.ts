import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';

describe('node config', () => {
  it('takes flags over environment over defaults', () => {
    const c = resolveConfig({ nodeId: 'n1', dataDir: '/tmp/x', listen: '127.0.0.1:9000' }, { LARDER_LISTEN: '127.0.0.1:1', LARDER_TICK_MS: '50' });
    expect(c.listen).toBe('127.0.0.1:9000');
    expect(c.advertise).toBe('127.0.0.1:9000');
    expect(c.tickMs).toBe(50);
    expect(c.clusterId).toBe('larder');
    expect(c.forwardUploads).toBe(true);
  });

  it('parses the initial cluster and booleans written as text', () => {
    const c = resolveConfig({ nodeId: 'n1', dataDir: 'd', initialCluster: 'n1=127.0.0.1:7401, n2=127.0.0.1:7402', forwardUploads: 'false' }, {});
    expect(c.initialCluster).toEqual({ n1: '127.0.0.1:7401', n2: '127.0.0.1:7402' });
    expect(c.forwardUploads).toBe(false);
  });

  it('names the flag and the variable of every bad setting', () => {
    const bad = () => resolveConfig({ nodeId: 'bad id', dataDir: 'd', listen: 'nowhere', initialCluster: 'n1' }, { LARDER_TICK_MS: 'fast' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/--node-id \(or LARDER_NODE_ID\)/);
    expect(bad).toThrow(/--listen \(or LARDER_LISTEN\): expected host:port/);
    expect(bad).toThrow(/--initial-cluster .*"n1" is not id=host:port/);
    expect(bad).toThrow(/--tick-ms/);
  });

  it('requires a data dir and a node id', () => {
    expect(() => resolveConfig({}, {})).toThrow(/--node-id[\s\S]*--data-dir/);
  });

  it('reads the admission settings, and names a bad shedding policy with the valid ones', () => {
    const c = resolveConfig({ nodeId: 'n1', dataDir: 'd', workers: '4' }, { LARDER_SHED_POLICIES: 'deadline, cpu-band', LARDER_SHEDDING: 'on' });
    expect(c).toMatchObject({ workers: 4, shedding: 'on', shedPolicies: ['deadline', 'cpuBands'] });
    expect(resolveConfig({ nodeId: 'n1', dataDir: 'd' }, {}).shedPolicies).toEqual(['memory', 'priority', 'cpuBands', 'deadline']);
    const bad = () => resolveConfig({ nodeId: 'n1', dataDir: 'd', shedPolicies: 'deadline,cpu', shedding: 'maybe' }, {});
    expect(bad).toThrow(/--shed-policies \(or LARDER_SHED_POLICIES\): "cpu" is not a policy; use any of memory, priority, cpu-band, deadline/);
    expect(bad).toThrow(/--shedding/);
  });
});
