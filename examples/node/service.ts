// A research forum on a hash ring, as one Node.js service (TypeScript).
//
// Four analysis agents — QueryEngine, MediaEngine, InsightEngine, ReportEngine, with
// weights 100/80/120/60 (one ring point per unit of weight) — and a dispatcher
// (weight 0: it owns no keys) join one cluster by gossip on 127.0.0.1. Each agent
// consumes the bus endpoint `agent/<id>` and serves routed payloads to it. Once the
// dispatcher places keys exactly like a `Ring` of the agents, it routes each topic
// with a `Router`: the payload travels over TCP to the owner's node, which puts it on
// the owner's endpoint and acknowledges it. Every agent answers its topics; the
// service checks each topic reached its owner on the ring, closes everything and
// exits 0. It stops by itself (and exits 1 if anything takes longer than 30 s).
//
// Run: see README.md (compiled by tsc; Node 20 cannot run TypeScript directly).

import { Bus, Node, Ring, Router, release } from 'shoal'
import type { MembershipEvent, Receiver } from 'shoal'

const AGENTS: ReadonlyArray<{ id: string; weight: number }> = [
  { id: 'QueryEngine', weight: 100 },
  { id: 'MediaEngine', weight: 80 },
  { id: 'InsightEngine', weight: 120 },
  { id: 'ReportEngine', weight: 60 },
]

const TOPICS: ReadonlyArray<string> = [
  'battery recycling subsidies',
  'river flood warnings',
  'school lunch prices',
  'night train timetables',
  'open data licences',
  'heat pump installers',
  'city cycling lanes',
  'library opening hours',
]

interface Job {
  topic: string
  asked: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `ok` every 50 ms until it holds (at most `ms`). */
async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`)
    await sleep(50)
  }
}

/** Logs the dispatcher's membership events until its node closes. */
async function watch(dispatcher: Node): Promise<number> {
  let seen = 0
  for await (const ev of dispatcher.events()) {
    const e: MembershipEvent = ev
    if (e.kind === 'joined') seen += 1
    console.log(`event: ${e.kind} ${e.member.id} (${e.member.status})`)
  }
  return seen
}

/** An agent: answers each job that reaches its endpoint; stops after `expected`. */
async function answer(id: string, inbox: Receiver, expected: number): Promise<string[]> {
  const answered: string[] = []
  while (answered.length < expected) {
    const message = await inbox.recv({ timeout: 10_000 })
    const job = JSON.parse(message.toString()) as Job
    release(message) // give the shared-memory slot back now rather than at GC
    answered.push(job.topic)
    console.log(`${id} answers "${job.topic}"`)
  }
  return answered
}

async function main(): Promise<void> {
  const bus = Bus.create(`shoal-example-${process.pid}`)
  const dispatcher = await Node.start({ id: 'dispatcher', weight: 0, vnodes: 1, protocol: 'fast' })
  const watching = watch(dispatcher)
  const agents: Node[] = []
  for (const { id, weight } of AGENTS) {
    agents.push(await Node.start({ id, weight, vnodes: 1, seeds: [dispatcher.address], protocol: 'fast' }))
  }
  const everyone = [dispatcher, ...agents]
  await until('every node sees all', () => everyone.every((n) => n.members().length === everyone.length))

  // The same placement, computed locally: one point per unit of weight.
  const ring = new Ring(1)
  for (const { id, weight } of AGENTS) ring.add(id, { weight })
  await until('the dispatcher places keys like the ring', () => dispatcher.placementDigest() === ring.layoutDigest())
  console.log(`placement agrees with the ring (digest ${ring.layoutDigest().toString(16)})`)

  // Each agent consumes its endpoint and takes routed payloads for it.
  const answering = agents.map((agent) => {
    const inbox = bus.endpoint(`agent/${agent.id}`)
    agent.serveRoutes(bus, 'agent/')
    const mine = TOPICS.filter((t) => ring.locate(t) === agent.id).length
    return answer(agent.id, inbox, mine).then((topics) => ({ id: agent.id, topics, inbox }))
  })

  const router = new Router(bus, dispatcher, { prefix: 'agent/' })
  for (const topic of TOPICS) {
    const job: Job = { topic, asked: Date.now() }
    const to = router.route(topic, JSON.stringify(job))
    console.log(`"${topic}" → ${to.owner} (${to.isLocal ? 'bus' : 'tcp'})`)
  }
  await router.flush(10_000)
  const results = await Promise.all(answering)

  let wrong = 0
  for (const { id, topics, inbox } of results) {
    for (const t of topics) if (ring.locate(t) !== id) wrong += 1
    inbox.close()
  }
  const stats = router.stats()
  console.log(`routed ${stats.remote} over tcp, ${stats.acked} acknowledged, ${wrong} misplaced`)

  await Promise.all(everyone.map((n) => n.close()))
  const joined = await watching
  bus.close()
  if (wrong !== 0 || stats.acked !== TOPICS.length || joined < AGENTS.length) {
    throw new Error(`unexpected: ${wrong} misplaced, ${stats.acked} acked, ${joined} joined`)
  }
  console.log(`done: ${TOPICS.length} topics answered by their owners`)
}

const guard = setTimeout(() => {
  console.error('example: timed out after 30 s')
  process.exit(1)
}, 30_000)
guard.unref()

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
