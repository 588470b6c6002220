// The bittorrent-dht (webtorrent, npm) side of bench/dht: N nodes on
// loopback in one process, settled, then random lookups for existing node
// IDs. Prints the same fields as bench-dht so the two stand side by side.
//
//   node bench/dht-js.mjs --nodes N [--lookups L] [--json]
//
// Run it in a network namespace (tests/run-in-netns.sh): every node binds
// 127.0.0.1 and bootstraps off other local nodes only.
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

// bittorrent-dht is installed once, for the interop tests, in tests/interop.
const here = path.dirname(fileURLToPath(import.meta.url))
const { default: DHT } = await import(pathToFileURL(
  path.join(here, '..', 'tests', 'interop', 'node_modules', 'bittorrent-dht', 'index.js')).href)

const args = process.argv.slice(2)
let n = 100
let lookups = 200
let json = false
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--nodes') n = parseInt(args[++i], 10)
  else if (args[i] === '--lookups') lookups = parseInt(args[++i], 10)
  else if (args[i] === '--json') json = true
  else { console.error(`unknown argument ${args[i]}`); process.exit(2) }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.floor((s.length - 1) / 2)] : null }
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : null }

global.gc?.()
const rssBefore = process.memoryUsage().rss
const nodes = []
for (let i = 0; i < n; i++) {
  const boot = nodes.length ? [nodes[0], nodes[Math.floor(Math.random() * nodes.length)]]
    .map((d) => `127.0.0.1:${d.address().port}`) : false
  const dht = new DHT({ bootstrap: boot, host: '127.0.0.1' })
  dht.on('error', () => {})
  dht.on('warning', () => {})
  await new Promise((resolve) => dht.listen(0, '127.0.0.1', resolve))
  nodes.push(dht)
}
await Promise.all(nodes.map((d) => d.ready ? null : new Promise((resolve) => d.once('ready', resolve))))
// Settle: every node refreshes its neighbourhood once more.
await Promise.all(nodes.map((d) => new Promise((resolve) =>
  d._rpc.populate(d._rpc.id, { q: 'find_node', a: { id: d._rpc.id, target: d._rpc.id } }, resolve))))
await sleep(500)
global.gc?.()
const rssPerNode = (process.memoryUsage().rss - rssBefore) / n / 1024

const times = []
const queries = []
let ok = 0
for (let i = 0; i < lookups; i++) {
  const from = nodes[Math.floor(Math.random() * n)]
  let to = nodes[Math.floor(Math.random() * n)]
  if (to === from) to = nodes[(nodes.indexOf(from) + 1) % n]
  const target = to._rpc.id
  let sent = 0
  let found = false
  const socket = from._rpc.socket
  const origQuery = socket.query.bind(socket)
  socket.query = (peer, msg, cb) => { sent++; return origQuery(peer, msg, cb) }
  const t0 = process.hrtime.bigint()
  await new Promise((resolve) => from._rpc.closest(target,
    { q: 'find_node', a: { id: from._rpc.id, target } },
    (res) => { if (res && res.r && Buffer.compare(Buffer.from(res.r.id), target) === 0) found = true },
    resolve))
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  socket.query = origQuery
  times.push(ms)
  queries.push(sent)
  if (found) ok++
}

const result = {
  impl: 'bittorrent-dht',
  nodes: n,
  lookups,
  success_rate: ok / lookups,
  median_ms: median(times),
  p95_ms: pct(times, 0.95),
  median_rounds: null,
  queries_per_lookup: queries.reduce((a, b) => a + b, 0) / lookups,
  rss_kib_per_node: rssPerNode
}
if (json) console.log(JSON.stringify(result))
else {
  console.log(`bittorrent-dht  nodes=${n} lookups=${lookups} success=${(100 * result.success_rate).toFixed(1)}% ` +
    `median=${result.median_ms.toFixed(2)}ms p95=${result.p95_ms.toFixed(2)}ms ` +
    `queries/lookup=${result.queries_per_lookup.toFixed(1)} rss/node=${rssPerNode.toFixed(1)}KiB`)
}
await Promise.all(nodes.map((d) => new Promise((resolve) => d.destroy(resolve))))
process.exit(0)
