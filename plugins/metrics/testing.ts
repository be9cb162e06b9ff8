/** Test helpers of the metrics plugin: a UDP socket that collects datagrams, polling with a deadline. */
export interface UdpCollector {
  port: number
  datagrams: string[]
  lines(): string[]
  close(): void
}

export async function udpCollector(): Promise<UdpCollector> {
  const datagrams: string[] = []
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_s, buf) {
        datagrams.push(buf.toString())
      },
    },
  })
  return {
    port: socket.port,
    datagrams,
    lines: () => datagrams.flatMap((d) => d.split("\n")),
    close: () => socket.close(),
  }
}

/** Resolves when `cond()` is true; throws with `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

/**
 * A strict reader of the Prometheus text format 0.0.4 for tests: every line must be a valid `# HELP`,
 * `# TYPE` or sample line (names, label escaping `\\ \" \n`, float values incl. NaN/±Inf), each sample
 * must belong to the family of the last `# TYPE` (with `_bucket/_sum/_count` for histograms and
 * summaries) and the text must end with a newline. Throws naming the bad line. Returns the samples,
 * with labels (parse-prometheus-text-format flattens labelled histograms, so tests need both).
 */
export function readExposition(text: string): Sample[] {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline")
  const out: Sample[] = []
  let family = ""
  let type = ""
  const fail = (line: string, why: string) => new Error(`${why}: ${JSON.stringify(line)}`)
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
      if (!m) throw fail(line, "bad comment")
      if (!NAME.test(m[2])) throw fail(line, "bad metric name")
      if (m[1] === "TYPE") {
        if (!TYPES.has(m[3])) throw fail(line, "bad type")
        family = m[2]
        type = m[3]
      } else if (/\\[^\\n]/.test(m[3].replace(/\\\\/g, ""))) throw fail(line, "bad HELP escape")
      continue
    }
    let i = 0
    while (i < line.length && line[i] !== "{" && line[i] !== " ") i++
    const name = line.slice(0, i)
    if (!NAME.test(name)) throw fail(line, "bad sample name")
    const suffixes =
      type === "histogram"
        ? ["", "_bucket", "_sum", "_count"]
        : type === "summary"
          ? ["", "_sum", "_count"]
          : [""]
    if (!suffixes.some((s) => name === family + s)) throw fail(line, `sample outside its family ${family}`)
    const labels: Record<string, string> = {}
    if (line[i] === "{") {
      i++
      while (line[i] !== "}") {
        const eq = line.indexOf("=", i)
        const key = line.slice(i, eq)
        if (!LABEL.test(key) || line[eq + 1] !== '"') throw fail(line, "bad label")
        let j = eq + 2
        let value = ""
        while (line[j] !== '"') {
          if (j >= line.length) throw fail(line, "unterminated label value")
          if (line[j] === "\\") {
            const e = line[j + 1]
            if (e === "n") value += "\n"
            else if (e === "\\" || e === '"') value += e
            else throw fail(line, "bad label escape")
            j += 2
          } else value += line[j++]
        }
        labels[key] = value
        i = j + 1
        if (line[i] === ",") i++
        else if (line[i] !== "}") throw fail(line, "bad label separator")
      }
      i++
    }
    const rest = line.slice(i).split(" ")
    if (rest[0] !== "" || rest.length < 2 || rest.length > 3) throw fail(line, "bad value/timestamp")
    const raw = rest[1]
    const value =
      raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? Number.NaN : Number(raw)
    if (!/^(NaN|[+-]Inf|[+-]?[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?)$/.test(raw)) throw fail(line, "bad value")
    if (rest[2] !== undefined && !/^-?[0-9]+$/.test(rest[2])) throw fail(line, "bad timestamp")
    out.push({ name, labels, value })
  }
  return out
}
