// The two markdown rewrites the site applies to the guides as written for GitHub.
import { describe, expect, test } from 'vitest';
import { groupQuickstarts } from '../.vitepress/markdown/quickstart-tabs.js';
import { rewriteRepoLink, type RepoLinkOptions } from '../.vitepress/markdown/repo-links.js';
import { repoRoot } from '../.vitepress/site-content.js';

const fence = (info: string, body: string): string => `\`\`\`${info}\n${body}\n\`\`\``;

describe('quick starts as tabs', () => {
  test('consecutive quick-start blocks become one code group, a tab per framework', () => {
    const src = ['Intro:', '', fence('ts quickstart=express', 'a'), '', fence('ts quickstart=hono', 'b'), '', 'After.'];
    expect(groupQuickstarts(src.join('\n'))).toBe(
      [
        'Intro:',
        '',
        '::: code-group',
        '',
        fence('ts [Express]', 'a'),
        '',
        fence('ts [Hono]', 'b'),
        '',
        ':::',
        '',
        'After.',
      ].join('\n'),
    );
  });

  test('prose between two blocks keeps them in separate groups; other blocks are left alone', () => {
    const src = [
      fence('ts quickstart=express', 'a'),
      'Or:',
      fence('ts', 'c'),
      fence('ts quickstart=fastify', 'b'),
    ].join('\n');
    const out = groupQuickstarts(src);
    expect(out.match(/::: code-group/g)).toHaveLength(2);
    expect(out).toContain(fence('ts', 'c'));
    expect(groupQuickstarts('no code')).toBe('no code');
  });
});

describe('repository links', () => {
  const github = 'https://github.com/portcullis/portcullis';
  const options: RepoLinkOptions = {
    repoRoot,
    github,
    sourceOf: (page) => (page.startsWith('bench/') ? `bench/results/${page.slice(6)}` : `docs/${page}`),
    routeOf: (path) => /^bench\/results\/(.+)$/.exec(path)?.[1]?.replace(/^/, '/bench/'),
  };

  test.each([
    [
      'a link between guides stays as written',
      'example-gateway.md#forwarding',
      'architecture.md',
      'example-gateway.md#forwarding',
    ],
    ['a file the site shows becomes its page', '../bench/results/router.md#x', 'router.md', '/bench/router.md#x'],
    [
      'another file goes to GitHub',
      '../examples/bff/README.md',
      'dataloader-guard.md',
      `${github}/blob/main/examples/bff/README.md`,
    ],
    ['a folder goes to GitHub as a tree', '../examples/bff', 'core.md', `${github}/tree/main/examples/bff`],
    [
      'a link in a bench report resolves from bench/results',
      '../README.md',
      'bench/router.md',
      `${github}/blob/main/bench/README.md`,
    ],
    [
      'a GitHub link to a guide becomes its page',
      `${github}/blob/main/docs/core.md#adapters`,
      'api/core/index.md',
      '/core.md#adapters',
    ],
    ['a missing file stays as written, for the checks to report', '../nope.md', 'core.md', '../nope.md'],
    ['an anchor, an absolute path and an external link stay', '#x', 'core.md', '#x'],
    ['an external link stays', 'https://example.com/a.md', 'core.md', 'https://example.com/a.md'],
  ])('%s', (_name, href, page, expected) => {
    expect(rewriteRepoLink(href, page, options)).toBe(expected);
  });
});
