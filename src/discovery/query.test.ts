import { describe, expect, it } from 'vitest';
import { SERVICE_TYPE, instanceName, type Announcement } from './announcement.js';
import { answersQuery, knownAnswers } from './query.js';

const self: Announcement = { clusterId: 'c', nodeId: 'n1', host: '127.0.0.1', grpcPort: 7401, protocol: 1 };
const query = (questions: unknown[], answers: unknown[] = []) => ({ type: 'query', questions, answers });

describe('answering queries', () => {
  it('answers a browse for the service, and direct questions for our records', () => {
    expect(answersQuery(query([{ name: SERVICE_TYPE, type: 'PTR' }]), self, 30)).toBe(true);
    expect(answersQuery(query([{ name: SERVICE_TYPE.toUpperCase(), type: 'ANY' }]), self, 30)).toBe(true);
    expect(answersQuery(query([{ name: instanceName(self), type: 'SRV' }]), self, 30)).toBe(true);
  });

  it('ignores other names and garbage', () => {
    expect(answersQuery(query([{ name: '_http._tcp.local', type: 'PTR' }]), self, 30)).toBe(false);
    expect(answersQuery(query([{ name: SERVICE_TYPE, type: 'A' }]), self, 30)).toBe(false);
    expect(answersQuery({ questions: 'all of them' }, self, 30)).toBe(false);
    expect(answersQuery(null, self, 30)).toBe(false);
  });

  it('stays quiet when the asker already knows us with half the TTL left (known-answer suppression)', () => {
    const q = [{ name: SERVICE_TYPE, type: 'PTR' }];
    const known = (ttl: number) => [{ name: SERVICE_TYPE, type: 'PTR', ttl, data: instanceName(self) }];
    expect(answersQuery(query(q, known(15)), self, 30)).toBe(false);
    expect(answersQuery(query(q, known(14)), self, 30)).toBe(true);
  });

  it('lists what we know with the remaining TTL', () => {
    const entry = { announcement: { ...self, nodeId: 'n2' }, seenAt: 0, expiresAt: 30_000 };
    expect(knownAnswers([entry], 10_500)).toEqual([{ name: SERVICE_TYPE, type: 'PTR', ttl: 19, data: instanceName(entry.announcement) }]);
  });
});
