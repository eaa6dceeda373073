// shoal for Node.js (ES module entry): the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const shoal = createRequire(import.meta.url)('./index.js')

export default shoal
export const { Ring, MigrationPlan, keyHash, splitmix64 } = shoal
export const { Node, Events } = shoal
export const { Router } = shoal
export const { PartitionTable } = shoal
export const { simulate, simulateSync } = shoal
export const { Bus, Sender, Receiver, Publisher, release, bufferInfo } = shoal
