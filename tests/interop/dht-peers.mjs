// A swarm of bittorrent-dht (webtorrent) nodes on loopback, driven by JSON
// lines on stdin, one JSON result per line on stdout. For interop tests.
//
//   node dht-peers.mjs --count N --bootstrap HOST:PORT [--bootstrap …]
//
// Never give it anything but loopback addresses: with `bootstrap: false` or an
// explicit list it contacts no public router.
import DHT from 'bittorrent-dht'
import ed from 'bittorrent-dht-sodium'
import sodium from 'sodium-native'
import readline from 'node:readline'

const args = process.argv.slice(2)
let count = 4
const bootstrap = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--count') count = parseInt(args[++i], 10)
  else if (args[i] === '--bootstrap') bootstrap.push(args[++i])
  else { console.error(`unknown argument ${args[i]}`); process.exit(2) }
}
for (const b of bootstrap) {
  if (!/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(b)) {
    console.error(`refusing non-loopback bootstrap ${b}`); process.exit(2)
  }
}

const nodes = []
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

function keypairFromSeed (seedHex) {
  const seed = Buffer.from(seedHex, 'hex')
  const pk = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const sk = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(pk, sk, seed)
  return { pk, sk }
}

function start (i) {
  return new Promise((resolve) => {
    const dht = new DHT({ bootstrap: bootstrap.length ? bootstrap : false, verify: ed.verify, host: '127.0.0.1' })
    dht.on('error', (err) => out({ event: 'error', node: i, error: String(err) }))
    dht.on('warning', () => {})
    dht.listen(0, '127.0.0.1', () => resolve(dht))
  })
}

function pick (cmd) {
  return nodes[(cmd.node ?? 0) % nodes.length]
}

async function handle (cmd) {
  const dht = pick(cmd)
  switch (cmd.op) {
    case 'addresses':
      return { addresses: nodes.map((d) => `127.0.0.1:${d.address().port}`) }
    case 'put-immutable':
      return new Promise((resolve) => dht.put({ v: Buffer.from(cmd.v, 'utf8') }, (err, hash, n) =>
        resolve(err ? { error: err.message } : { target: hash.toString('hex'), stored: n })))
    case 'put-mutable': {
      const kp = keypairFromSeed(cmd.seed)
      const opts = { k: kp.pk, seq: cmd.seq, v: Buffer.from(cmd.v, 'utf8'), sign: (buf) => ed.sign(buf, kp.sk) }
      if (cmd.salt) opts.salt = Buffer.from(cmd.salt, 'utf8')
      return new Promise((resolve) => dht.put(opts, (err, hash, n) =>
        resolve(err ? { error: err.message } : { target: hash.toString('hex'), stored: n, k: kp.pk.toString('hex') })))
    }
    case 'get': {
      const opts = { cache: false }
      if (cmd.salt) opts.salt = Buffer.from(cmd.salt, 'utf8')
      return new Promise((resolve) => dht.get(cmd.target, opts, (err, res) => {
        if (err) return resolve({ error: err.message })
        if (!res) return resolve({ error: 'not found' })
        const r = { v: Buffer.from(res.v).toString('utf8') }
        if (res.k) { r.k = Buffer.from(res.k).toString('hex'); r.seq = res.seq }
        resolve(r)
      }))
    }
    case 'announce':
      return new Promise((resolve) => dht.announce(cmd.infohash, cmd.port, (err) =>
        resolve(err ? { error: err.message } : { announced: true })))
    case 'peers': {
      const found = new Set()
      const onPeer = (peer, infoHash) => {
        if (infoHash.toString('hex') === cmd.infohash) found.add(`${peer.host}:${peer.port}`)
      }
      dht.on('peer', onPeer)
      return new Promise((resolve) => dht.lookup(cmd.infohash, (err) => {
        dht.removeListener('peer', onPeer)
        resolve(err ? { error: err.message } : { peers: [...found].sort() })
      }))
    }
    case 'quit':
      await Promise.all(nodes.map((d) => new Promise((resolve) => d.destroy(resolve))))
      out({ quit: true })
      process.exit(0)
      break
    default:
      return { error: `unknown op ${cmd.op}` }
  }
}

for (let i = 0; i < count; i++) nodes.push(await start(i))
// Let them find each other through the bootstrap before taking commands.
await Promise.all(nodes.map((d) => d.ready ? null : new Promise((resolve) => d.once('ready', resolve))))
out({ ready: true, addresses: nodes.map((d) => `127.0.0.1:${d.address().port}`) })

const rl = readline.createInterface({ input: process.stdin })
let chain = Promise.resolve()
rl.on('line', (line) => {
  chain = chain.then(async () => {
    let cmd
    try { cmd = JSON.parse(line) } catch { return out({ error: 'bad json' }) }
    out({ id: cmd.id, ...(await handle(cmd)) })
  })
})
rl.on('close', () => { chain.then(() => handle({ op: 'quit' })) })
