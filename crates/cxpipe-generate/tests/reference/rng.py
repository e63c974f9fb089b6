#!/usr/bin/env python3
"""An independent reference of cxpipe-generate's random number generator.

The generator (`src/rng.rs`) is xoshiro256** (Blackman and Vigna) whose four
state words are the first four outputs of splitmix64 started at the seed;
`Rng::for_item(key, day, index)` seeds it with `key ^ mix64(day << 40 ^ index)`
and `stream_key(seed, domain)` derives a key per purpose. This script is the
same algorithm written from the published descriptions, in Python's
arbitrary-precision integers, so that the numbers pinned in `rng.rs`'s tests
come from a computation that shares no code with the crate:

    python3 crates/cxpipe-generate/tests/reference/rng.py
"""

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z):
    """splitmix64's output function."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Xoshiro256StarStar:
    def __init__(self, seed):
        x = seed & M64
        s = []
        for _ in range(4):
            x = (x + GOLDEN) & M64
            s.append(mix64(x))
        self.s = s

    def next_u64(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def f64(self):
        """Uniform in [0, 1): the top 53 bits over 2^53 (exact in a double)."""
        return (self.next_u64() >> 11) / float(1 << 53)

    def below(self, n):
        """Lemire's multiply-shift without rejection."""
        return (self.next_u64() * n) >> 64


def stream_key(seed, domain):
    return mix64(mix64(seed ^ 0x6378706970650000) ^ ((domain * GOLDEN) & M64))


def for_item(key, day, index):
    return Xoshiro256StarStar(key ^ mix64(((day << 40) & M64) ^ index))


if __name__ == "__main__":
    r = Xoshiro256StarStar(42)
    print("Rng::new(42), first 8 next_u64:")
    for _ in range(8):
        print(f"    0x{r.next_u64():016X},")
    key = stream_key(42, 3)  # domain::SLOT
    print(f"stream_key(42, 3) = 0x{key:016X}")
    r = for_item(key, 3, 17)
    print("Rng::for_item(stream_key(42, 3), 3, 17), first 4 next_u64:")
    for _ in range(4):
        print(f"    0x{r.next_u64():016X},")
    r = Xoshiro256StarStar(7)
    print("Rng::new(7): f64, f64, below(1000), below(86400):")
    print(f"    {r.f64()!r}, {r.f64()!r}, {r.below(1000)}, {r.below(86400)}")
