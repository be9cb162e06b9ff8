/** Test support for the records UI: the histogram SVG parsed back into bars and rects. */

/** The <a class="bar"> elements of an SVG with their rects, parsed back out of the markup. */
export function parseBars(svg: string) {
  return [
    ...svg.matchAll(
      /<a class="bar" href="([^"]*)" data-from="(\d+)" data-to="(\d+)" data-total="(\d+)">(.*?)<\/a>/gs,
    ),
  ].map((m) => ({
    href: m[1].replaceAll("&amp;", "&"),
    from: Number(m[2]),
    to: Number(m[3]),
    total: Number(m[4]),
    rects: [
      ...m[5].matchAll(
        /<rect class="lvl (c\d)" data-level="(\w+)" data-count="(\d+)" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g,
      ),
    ].map((r) => ({ cls: r[1], level: r[2], count: Number(r[3]), y: Number(r[5]), height: Number(r[6]) })),
  }))
}
