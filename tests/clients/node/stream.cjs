// Open one of megalodon's streams against a server and print each event it emits, one JSON line
// each: {"event": "connect"} first, then {"event": <name>, "data": <megalodon's entity>}.
//
//   KENOMA_URL=http://127.0.0.1:5000 KENOMA_TOKEN=... node stream.cjs <userStreaming|publicStreaming|...>
//
// It runs until its stdin closes (the test ends it). Errors go to stderr.
const megalodon = require('megalodon')

const generator = megalodon.default
const { detector } = megalodon

const [method, ...rawArgs] = process.argv.slice(2)
const url = process.env.KENOMA_URL
const token = process.env.KENOMA_TOKEN || null

function print (event, data) {
  process.stdout.write(JSON.stringify({ event, data: data ?? null }) + '\n')
}

async function main () {
  const sns = await detector(url)
  const client = generator(sns, url, token, 'kenoma-megalodon-test')
  const stream = await client[method](...rawArgs.map((arg) => JSON.parse(arg)))
  stream.on('connect', () => print('connect'))
  for (const name of ['update', 'notification', 'delete', 'conversation', 'status_update']) {
    stream.on(name, (data) => print(name, data))
  }
  stream.on('error', (err) => process.stderr.write(`error: ${err && err.message}\n`))
  stream.on('parser-error', (err) => process.stderr.write(`parser-error: ${err && err.message}\n`))
  process.stdin.on('end', () => { stream.stop(); process.exit(0) })
  process.stdin.resume()
}

main().catch((err) => {
  process.stderr.write(`${err && err.name}: ${err && err.message}\n`)
  process.exit(1)
})
