import { expect, test } from "bun:test"
import { createIdWatermark } from "./id-watermark"

test("the floor trails the highest id by the settle time; delivered ids above it are skipped", () => {
  const w = createIdWatermark(10, { settleMs: 3000 })
  w.deliver(12)
  w.settle(1000)
  expect([w.floor, w.highest, w.repeats(), w.isNew(12), w.isNew(11)]).toEqual([10, 12, 1, false, true])
  // 11 shows up late: still above the floor, still new
  w.deliver(11)
  w.seen(15) // committed, did not match
  w.settle(2000)
  expect(w.floor).toBe(10)
  // 3 s after 12 was the highest, nothing below it can still appear
  w.settle(4000)
  expect([w.floor, w.repeats()]).toEqual([12, 0])
  w.settle(5000)
  expect(w.floor).toBe(15)
})

test("settle 0 follows the highest id at once; raise gives up waiting; a cap bounds what is remembered", () => {
  const now = createIdWatermark(0, { settleMs: 0 })
  now.deliver(5)
  now.settle(1)
  expect([now.floor, now.repeats()]).toEqual([5, 0])

  const w = createIdWatermark(0, { maxRemembered: 2 })
  for (const id of [1, 2, 3, 4]) w.deliver(id)
  w.settle(0)
  expect([w.floor, w.repeats(), w.isNew(3), w.isNew(4)]).toEqual([2, 2, false, false])
  w.raise(9)
  expect([w.floor, w.highest, w.repeats()]).toEqual([9, 9, 0])
})
