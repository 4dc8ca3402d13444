/**
 * A one-shot client for tests that run nodes in network namespaces: the test process cannot reach
 * those addresses, so it runs this inside a namespace and reads one line of JSON.
 *   info <host:port>            ClusterInfo of that node
 *   put <host:port> <seed>      uploads the test file made from seed; prints its hash
 *   get <host:port> <hash>      downloads; prints the SHA-256 of what came back
 */
import { createHash } from 'node:crypto';
import { LarderClient } from '../../client/larder-client.js';
import { bytesOf, pieces } from './cluster-harness.js';

const [command, address, arg] = process.argv.slice(2);
if (!command || !address) throw new Error('usage: netns-client info|put|get <host:port> [seed|hash]');
const client = new LarderClient({ endpoints: [address], retry: { baseDelayMs: 50, maxDelayMs: 500, deadlineMs: 20_000 } });
try {
  if (command === 'info') {
    console.log(JSON.stringify(await client.clusterInfo(address)));
  } else if (command === 'put') {
    const data = bytesOf(300 * 1024 + Number(arg), Number(arg));
    const res = await client.upload({ name: `f${arg}.bin`, mime: 'application/octet-stream', size: data.length, open: () => pieces(data) });
    console.log(JSON.stringify({ hash: res.hash }));
  } else if (command === 'get') {
    const hash = createHash('sha256');
    await client.download({ hash: arg! }, (d) => void hash.update(d));
    console.log(JSON.stringify({ sha: hash.digest('hex') }));
  } else throw new Error(`unknown command ${command}`);
} finally {
  client.close();
}
