/**
 * A small seeded PRNG (splitmix32), so that everything random about a node or a simulation is a
 * pure function of its seed. The core never calls it by itself: it is injected.
 */
export function seededRandom(seed: number): { next(): number; int(n: number): number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}
