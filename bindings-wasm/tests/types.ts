// Compiled (not run) by `tsc -p bindings-wasm`: the declarations describe the API
// precisely enough for typed code — unions for keys, typed arrays, bigint hashes.
import { GossipSim, PartitionTable, Ring, sampleKey, simulate } from '../pkg-node/shoal_wasm.js'

const ring = new Ring(160, 'xxh3')
ring.add('a', { weight: 2, zone: 'z1' })
ring.add('b')
const owner: string | null = ring.locate(new Uint8Array([1, 2, 3]))
const hash: bigint = ring.keyHash('user:42')
const replicas: string[] = ring.locateN(sampleKey(1), 2, true)
const batch: string[] | Uint32Array = ring.locateMany(['x', 'y'])
const sample: Uint32Array = ring.sampleOwners(1000)
const pts: { positions: Float64Array; owners: Uint32Array } = ring.points()
const share: Record<string, number> = ring.ownership()
const plan = ring.diff(ring.copy())
const moved: number = plan.fractionMoved
const bounded: string = ring.locateBounded('k', { a: 1 }, 0.25)

const table = new PartitionTable(['a', { id: 'b', weight: 2 }], { partitions: 1024, mode: 'balanced' })
const grid: Uint32Array = table.ownerIndices()
const peak: number = table.stats().peakToMean
const digest: bigint = table.digest()

const sim = new GossipSim({ nodes: 8, seed: 3n })
sim.advance(1000)
const events = sim.takeEvents()
const kind: 'joined' | 'updated' | 'suspected' | 'refuted' | 'failed' | 'left' | undefined = events[0]?.kind
const report = simulate({ nodes: 10, scenario: 'crash' })
const p50: number | null = report.detection.p50

export { owner, hash, replicas, batch, sample, pts, share, moved, bounded, grid, peak, digest, kind, p50 }
