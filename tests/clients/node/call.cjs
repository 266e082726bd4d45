// Call one megalodon method against a server and print what megalodon returned, as JSON.
//
//   KENOMA_URL=http://127.0.0.1:5000 KENOMA_TOKEN=... node call.cjs <method> [json-arg ...]
//
// The backend is whatever megalodon's own detector() reads from the server's nodeinfo (Kenoma
// must answer "pleroma"). Each further argument is JSON (ids are JSON strings: '"123"').
// stdout: {"sns": ..., "status": <HTTP status>, "data": <megalodon's converted entity>}.
// Any error: its message (and the HTTP answer, if there was one) on stderr, exit status 1.
// megalodon 10.0.x ships CommonJS for node: its default export `generator` is `.default`.
const megalodon = require('megalodon')

const generator = megalodon.default
const { detector } = megalodon

const [method, ...rawArgs] = process.argv.slice(2)
const url = process.env.KENOMA_URL
const token = process.env.KENOMA_TOKEN || null

async function main () {
  if (!method || !url) throw new Error('usage: KENOMA_URL=... [KENOMA_TOKEN=...] node call.cjs <method> [json-arg ...]')
  const sns = await detector(url)
  const client = generator(sns, url, token, 'kenoma-megalodon-test')
  if (typeof client[method] !== 'function') throw new Error(`megalodon has no method ${method}`)
  const result = await client[method](...rawArgs.map((arg) => JSON.parse(arg)))
  const answer = result && typeof result === 'object' && 'data' in result
    ? { sns, status: result.status, data: result.data }
    : { sns, status: null, data: result ?? null }
  process.stdout.write(JSON.stringify(answer) + '\n')
}

main().catch((err) => {
  const response = err && err.response
  const detail = response ? ` (HTTP ${response.status}: ${JSON.stringify(response.data)})` : ''
  process.stderr.write(`${err && err.name}: ${err && err.message}${detail}\n`)
  process.exit(1)
})
