/**
 * Pages that make a task's output huge, built in the page so the fixture server sends a few
 * bytes: the output-bounds and tenant-bombs tests aim them at the caps.
 */
const MB = 1024 * 1024;

export const BOMB_PAGES = {
  /** 12 MB of text. */
  '/huge': `<html><body><article><h1>Huge</h1><p id="p"></p></article><script>
      document.getElementById('p').textContent = 'lorem ipsum dolor sit amet '.repeat(${Math.ceil((12 * MB) / 27)});
    </script></body></html>`,
  /**
   * 1,000 nested divs with 200 characters each: their outer HTML together is ~106 MB. (Past
   * ~2,000 levels, laying the page out stalls its renderer for minutes: the deadline's job.)
   */
  '/nested': `<html><body><div id="root"></div><script>
      let at = document.getElementById('root');
      for (let i = 0; i < 1000; i++) {
        const div = document.createElement('div');
        div.textContent = 'n'.repeat(200);
        at.append(div);
        at = div;
      }
    </script></body></html>`,
  /** 100,000 distinct links of ~100 bytes each: ~10 MB of JSON. */
  '/links': `<html><body><script>
      const frag = document.createDocumentFragment();
      for (let i = 0; i < 100000; i++) {
        const a = document.createElement('a');
        a.href = 'https://example.test/' + 'p'.repeat(60) + '/' + i;
        a.textContent = 'link ' + i;
        frag.append(a);
      }
      document.body.append(frag);
    </script></body></html>`,
} as const;
