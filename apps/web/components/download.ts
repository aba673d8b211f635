/** Hands text to the browser as a file download (called from click handlers only). */
export function download(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The SVG as a standalone file: the drawing's colours come from the page's stylesheet, so each
 * element's computed fill and stroke are copied inline onto a clone.
 */
export function standaloneSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const originals = svg.querySelectorAll<SVGElement>('*');
  const copies = clone.querySelectorAll<SVGElement>('*');
  originals.forEach((original, i) => {
    const style = getComputedStyle(original);
    const copy = copies[i]!;
    for (const property of ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'font-size']) {
      copy.style.setProperty(property, style.getPropertyValue(property));
    }
  });
  const { width, height } = svg.getBoundingClientRect();
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('style', `background:${getComputedStyle(svg.parentElement!).backgroundColor}`);
  return new XMLSerializer().serializeToString(clone);
}
