/**
 * One MdnsDiscovery in its own process, for the test that several processes of one machine share
 * the mDNS port. Options come as JSON in argv[2]; it prints JSON lines (ready, peer, lost) and
 * stops cleanly, with a goodbye, when its stdin closes.
 */
import { MdnsDiscovery } from '../mdns.js';

const discovery = new MdnsDiscovery(JSON.parse(process.argv[2] ?? '{}'));
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
discovery.on('peer', (p) => say({ peer: p.nodeId }));
discovery.on('lost', (p, why) => say({ lost: p.nodeId, why }));
await discovery.start();
say({ ready: true });
process.stdin.on('end', () => {
  void discovery.stop().then(() => process.exit(0));
});
process.stdin.resume();
