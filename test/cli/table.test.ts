/**
 * The CLI's table layout (src/cli/table.ts), which replaced cli-table3: the same borderless
 * output for ordinary text, columns measured in terminal columns (colour codes none, wide
 * characters two), and nothing lost or bled across cells.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Output } from '../../src/cli/output.js';
import { displayWidth, layoutTable, truncateToWidth } from '../../src/cli/table.js';

function capture(color: boolean, columns = 80): { out: Output; text: () => string } {
  let written = '';
  const stream = {
    write: (s: string) => {
      written += s;
      return true;
    },
    isTTY: true,
    columns,
  } as never;
  return { out: new Output({ stdout: stream, stderr: stream, env: {} }, color), text: () => written };
}

describe('table layout', () => {
  test('displayWidth: colour codes take no columns, wide characters and emoji two, combining marks none', () => {
    assert.equal(displayWidth('plain text'), 10);
    assert.equal(displayWidth('\u001b[32mok\u001b[39m'), 2);
    assert.equal(displayWidth('é'), 1);
    assert.equal(displayWidth('e\u0301'), 1);
    assert.equal(displayWidth('水水'), 4);
    assert.equal(displayWidth('注文🚀'), 6);
    assert.equal(displayWidth('한국'), 4);
    assert.equal(displayWidth('ab\nlonger'), 6, 'the widest line');
    assert.equal(displayWidth(''), 0);
  });

  test('truncateToWidth: cut to the columns given, with …; text that fits is unchanged', () => {
    assert.equal(truncateToWidth('short', 10), 'short');
    assert.equal(truncateToWidth('exactly10!', 10), 'exactly10!');
    assert.equal(truncateToWidth('a longer message', 8), 'a longe…');
    assert.equal(truncateToWidth('水水水水水', 5), '水水…');
    assert.equal(displayWidth(truncateToWidth('水水水水水', 6)), 5, 'a wide character is not split');
    assert.equal(truncateToWidth('\u001b[31mred and long\u001b[39m', 5), 'red …');
  });

  test('layoutTable: columns a gap apart, last cell unpadded, trailing spaces trimmed', () => {
    assert.deepEqual(
      layoutTable(
        ['ID', 'FLOW', 'ERROR'],
        [
          ['a', 'sync', ''],
          ['long value', 'x', 'boom'],
        ],
        [10, 4, 5],
        2,
      ),
      ['ID          FLOW  ERROR', 'a           sync', 'long value  x     boom'],
    );
    assert.deepEqual(layoutTable(['A', 'B'], [], [1, 1], 2), ['A  B']);
    assert.deepEqual(layoutTable(['A', 'B', 'C'], [['a'], ['', '', '']], [1, 1, 1], 2), ['A  B  C', 'a', '']);
  });

  test('layoutTable: a cell with line breaks takes several lines; its colour does not run into the next cell', () => {
    assert.deepEqual(layoutTable(['A', 'B'], [['one\ntwo', 'x']], [3, 1], 2), ['A    B', 'one  x', 'two']);
    const [, first, second] = layoutTable(['A', 'B'], [['\u001b[32mone\ntwo\u001b[39m', 'x']], [3, 1], 2);
    assert.equal(first, '\u001b[32mone\u001b[0m  x');
    assert.equal(second, '\u001b[32mtwo\u001b[39m\u001b[0m');
  });

  test('Output.table: what cli-table3 printed for ordinary text, colour codes included', () => {
    const plain = capture(false);
    plain.out.table(
      ['ID', 'FLOW'],
      [
        ['a', 'b'],
        ['long value', 'x'],
      ],
    );
    assert.equal(plain.text(), 'ID          FLOW\na           b\nlong value  x\n');

    const colored = capture(true);
    colored.out.table(['ID', 'STATUS'], [[colored.out.c.green('a'), 'ok']]);
    assert.equal(colored.text(), '\u001b[1mID\u001b[22m  \u001b[1mSTATUS\u001b[22m\n\u001b[32ma\u001b[39m   ok\n');
  });

  test('Output.table: the flex column gives up width on a narrow terminal; wide characters stay aligned and whole', () => {
    const narrow = capture(false, 40);
    narrow.out.table(['ID', 'FLOW', 'ERR'], [['a', 'b', 'some error text that is long enough to be cut'.repeat(2)]], {
      flex: 2,
    });
    assert.equal(narrow.text(), 'ID  FLOW  ERR\na   b     some error text that is long…\n');
    assert.ok(
      narrow
        .text()
        .split('\n')
        .every((l) => displayWidth(l) <= 40),
    );

    const wide = capture(false);
    wide.out.table(
      ['NAME', 'N'],
      [
        ['注文', '1'],
        ['order', '2'],
      ],
    );
    assert.equal(wide.text(), 'NAME   N\n注文   1\norder  2\n');
  });
});
