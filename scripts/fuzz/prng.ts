// A small seeded PRNG (splitmix32) for the fuzz campaign: every case is rebuilt
// from (seed, case index) alone, so a failure is replayed from its id.

function mix32(x: number): number {
  let z = x >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** The seed of one case: independent of every other case, so cases run in any order on any worker. */
export function caseSeed(seed: number, index: number): number {
  return mix32(mix32(seed >>> 0) ^ mix32((index + 0x632be5ab) >>> 0) ^ Math.floor(index / 0x1_0000_0000))
}

export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    return mix32(this.state)
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 1) return 0
    if (n <= 0x1_0000_0000) return Math.floor((this.u32() / 0x1_0000_0000) * n)
    return Math.floor(((this.u32() * 0x1_0000_0000 + this.u32()) / 2 ** 64) * n)
  }

  /** A uniform integer in [a, b]. */
  between(a: number, b: number): number {
    return a + this.int(b - a + 1)
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    let r = this.int(entries.reduce((n, [, w]) => n + w, 0))
    for (const [k, w] of entries) {
      if (r < w) return k
      r -= w
    }
    return entries[entries.length - 1][0]
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.u32()
      for (let j = 0; j < 4 && i + j < n; j++) b[i + j] = (v >>> (8 * j)) & 0xff
    }
    return b
  }
}
