// The guides give each quick start once per framework, as consecutive code blocks whose info string
// is `ts quickstart=<framework>` (scripts/e2e-packed.mjs compiles and runs exactly those blocks). On
// GitHub they read one after the other; on the site they become one block with a tab per framework
// (VitePress's `::: code-group`), so the page shows one example at a time.
import type { MarkdownRenderer } from 'vitepress';

const quickstart = /^```ts quickstart=(\w+)\n[\s\S]*?^```$/gm;

function label(framework: string): string {
  return framework.charAt(0).toUpperCase() + framework.slice(1);
}

/** `src` with each run of quick-start blocks (separated by blank lines only) in a code group. */
export function groupQuickstarts(src: string): string {
  const blocks = [...src.matchAll(quickstart)];
  if (blocks.length === 0) return src;
  let out = '';
  let at = 0;
  let inGroup = false;
  blocks.forEach((block, i) => {
    const start = block.index;
    const end = start + block[0].length;
    const body = block[0].replace(/^```ts quickstart=\w+/, `\`\`\`ts [${label(block[1] ?? '')}]`);
    out += src.slice(at, start) + (inGroup ? '' : '::: code-group\n\n') + body;
    const next = blocks[i + 1];
    inGroup = next !== undefined && src.slice(end, next.index).trim() === '';
    if (!inGroup) out += '\n\n:::';
    at = end;
  });
  return out + src.slice(at);
}

/** Applies {@link groupQuickstarts} to every page before it is parsed. */
export function quickstartTabs(md: MarkdownRenderer): void {
  md.core.ruler.before('normalize', 'portcullis_quickstart_tabs', (state) => {
    state.src = groupQuickstarts(state.src);
  });
}
