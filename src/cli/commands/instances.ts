/**
 * `retrace instances …`: a flow deployed with its own config, secrets, labels and enabled flag.
 * Secret values go in (`--secret NAME=VALUE`, better `NAME=@file`) and never come out: lists and
 * `show` name the secrets that are set, nothing more. Commands that may change the config load
 * the flows, because the engine checks it against the flow's config schema; `enable` and
 * `disable` change only the flag and need the store alone.
 */
import { type Command, Option } from 'commander';
import type { InstanceView, UpdateInstanceInput } from '../../index.js';
import { UsageError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';
import type { CliContext } from '../context.js';
import { formatTime, type Output, preview } from '../output.js';
import { collect, parseCount, parsePairs, readJsonArg, readSecrets } from '../parse.js';

interface ChangeFlags {
  name?: string;
  /** `--config`, renamed on the way in (see instanceConfigArgv). */
  instanceConfig?: string;
  secret?: string[];
  unsetSecret?: string[];
  label?: string[];
  unlabel?: string[];
  disabled?: boolean;
  json?: boolean;
}

export function registerInstances(program: Command, wrap: Wrap): void {
  const instances = program
    .command('instances')
    .alias('in')
    .description('Instances: a flow deployed with its own config, secrets and labels');

  const list = instances
    .command('list')
    .alias('ls')
    .description('Instances, by flow')
    .option('--flow <name>', 'only instances of this flow')
    .option('--limit <n>', 'at most N instances (1-1000)', '200');
  addJsonOption(list);
  list.action(
    wrap<{ flow?: string; limit?: string; json?: boolean }>(async (ctx, flags) => {
      const limit = parseCount(flags.limit ?? '200', '--limit', { max: 1000 });
      const views = await ctx.withEngine({ flows: false, worker: false }, (engine) =>
        engine.instances.list({ ...(flags.flow ? { flow: flags.flow } : {}), limit }),
      );
      if (flags.json) ctx.out.json(views);
      else if (views.length === 0) ctx.out.line('No instances.');
      else printTable(ctx.out, views);
      return 0;
    }),
  );

  const show = instances.command('show').argument('<id>', 'instance id').description('One instance');
  addJsonOption(show);
  show.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [id]) => {
      const view = await ctx.withEngine({ flows: false, worker: false }, (engine) => engine.instances.get(id!));
      print(ctx, view, flags.json);
      return 0;
    }),
  );

  const create = instances
    .command('create')
    .description('Deploy a flow as a new instance')
    .requiredOption('--flow <name>', 'the flow it runs')
    .requiredOption('--name <name>', 'a name for people (a customer, an account)')
    .option('--disabled', 'create it disabled (it accepts no runs until enabled)');
  addChangeOptions(create, false);
  addJsonOption(create);
  create.addHelpText(
    'after',
    `
Examples:
  retrace instances create --flow sync-order --name acme --label customer=acme \\
    --config '{"region":"eu"}' --secret apiToken=@acme-token.txt
  retrace instances create --flow sync-order --name globex --config globex.json

Secret values are encrypted with RETRACE_ENCRYPTION_KEY (or encryptionKey in retrace.config.ts)
and never shown again. Prefer NAME=@file: a value on the command line stays in shell history.`,
  );
  create.action(
    wrap<ChangeFlags & { flow: string; name: string }>(async (ctx, flags) => {
      // Everything is read and checked before the store is opened: a bad flag changes nothing.
      const config =
        flags.instanceConfig !== undefined ? jsonObject(readJsonArg(flags.instanceConfig, '--config', ctx.cwd)) : {};
      const secrets = readSecrets(flags.secret ?? [], ctx.cwd);
      const labels = parsePairs(flags.label ?? [], '--label');
      const view = await ctx.withEngine({ flows: true, worker: false }, (engine) =>
        engine.instances.create(
          {
            flow: flags.flow,
            name: flags.name,
            labels,
            config,
            secrets,
            enabled: flags.disabled !== true,
          },
          { actor: ctx.actor },
        ),
      );
      if (!flags.json) ctx.out.note(`Created instance ${view.id} of ${view.flow}.`);
      print(ctx, view, flags.json);
      return 0;
    }),
  );

  const update = instances
    .command('update')
    .argument('<id>', 'instance id')
    .description('Change an instance: config and secrets are merged into what it has')
    .option('--name <name>', 'a new name');
  addChangeOptions(update, true);
  addJsonOption(update);
  update.action(
    wrap<ChangeFlags>(async (ctx, flags, [id]) => {
      const patch = changePatch(ctx, flags);
      const needsLabels = patch.labels !== undefined || (flags.unlabel?.length ?? 0) > 0;
      if (Object.keys(patch).length === 0 && !needsLabels) {
        throw new UsageError(
          'Nothing to change: give --name, --config, --secret, --unset-secret, --label or --unlabel',
        );
      }
      const view = await ctx.withEngine({ flows: true, worker: false }, async (engine) => {
        if (needsLabels) {
          // Labels given are merged into the instance's own; --unlabel removes some.
          const current = await engine.instances.get(id!);
          const labels = { ...current.labels, ...(patch.labels ?? {}) };
          for (const key of flags.unlabel ?? []) delete labels[key];
          patch.labels = labels;
        }
        return engine.instances.update(id!, patch, { actor: ctx.actor });
      });
      if (!flags.json) ctx.out.note(`Updated instance ${view.id}.`);
      print(ctx, view, flags.json);
      return 0;
    }),
  );

  for (const [name, enabled, description] of [
    ['enable', true, 'Let an instance accept runs again (webhooks, schedules, manual runs)'],
    ['disable', false, 'Refuse new runs on an instance (executions already started go on)'],
  ] as const) {
    const cmd = instances.command(name).argument('<id>', 'instance id').description(description);
    addJsonOption(cmd);
    cmd.action(
      wrap<{ json?: boolean }>(async (ctx, flags, [id]) => {
        // Only the flag changes, so the config is not checked again: the store alone is enough.
        const view = await ctx.withEngine({ flows: false, worker: false }, (engine) =>
          engine.instances.update(id!, { enabled }, { actor: ctx.actor }),
        );
        if (!flags.json) ctx.out.note(`Instance ${view.id} (${view.name}) is ${enabled ? 'enabled' : 'disabled'}.`);
        print(ctx, view, flags.json);
        return 0;
      }),
    );
  }

  const del = instances
    .command('delete')
    .argument('<id>', 'instance id')
    .description("Delete an instance (its executions stay; a flow's default instance cannot be deleted)");
  addJsonOption(del);
  del.action(
    wrap<{ json?: boolean }>(async (ctx, flags, [id]) => {
      await ctx.withEngine({ flows: false, worker: false }, (engine) =>
        engine.instances.delete(id!, { actor: ctx.actor }),
      );
      if (flags.json) ctx.out.json({ id, deleted: true });
      else ctx.out.line(`Deleted instance ${id}.`);
      return 0;
    }),
  );
}

const INSTANCE_CONFIG = '--instance-config';

/**
 * `retrace --config FILE` names the config file, and commander gives the program's options
 * precedence wherever they appear; so `--config` after `instances create|update` is renamed to
 * a hidden option of theirs before parsing. The config file can still be given before `instances`.
 */
export function instanceConfigArgv(argv: readonly string[]): string[] {
  const at = argv.findIndex((a, i) => (a === 'instances' || a === 'in') && /^(create|update)$/.test(argv[i + 1] ?? ''));
  if (at < 0) return [...argv];
  return argv.map((a, i) => {
    if (i <= at + 1) return a;
    if (a === '--config') return INSTANCE_CONFIG;
    if (a.startsWith('--config=')) return `${INSTANCE_CONFIG}=${a.slice('--config='.length)}`;
    return a;
  });
}

function addChangeOptions(cmd: Command, updating: boolean): void {
  cmd
    // Shown in help as --config; what parses it is the hidden --instance-config.
    .option(
      '--config <json|file>',
      updating
        ? 'config values to merge, as JSON or a JSON file (a null value removes a key)'
        : 'config values, as JSON or a JSON file',
    )
    .addOption(new Option(`${INSTANCE_CONFIG} <json|file>`).hideHelp())
    .option('--secret <name=value>', 'a secret value, or NAME=@file to read it from a file (repeatable)', collect)
    .option('--label <key=value>', 'a label (repeatable)', collect);
  if (updating) {
    cmd
      .option('--unset-secret <name>', 'remove a secret value (repeatable)', collect)
      .option('--unlabel <key>', 'remove a label (repeatable)', collect);
  }
}

/** The update the flags ask for; labels are merged with the current ones by the caller. */
function changePatch(ctx: CliContext, flags: ChangeFlags): UpdateInstanceInput {
  const patch: UpdateInstanceInput = {};
  if (flags.name !== undefined) patch.name = flags.name;
  if (flags.instanceConfig !== undefined) {
    patch.config = jsonObject(readJsonArg(flags.instanceConfig, '--config', ctx.cwd));
  }
  const secrets: Record<string, string | null> = readSecrets(flags.secret ?? [], ctx.cwd);
  for (const name of flags.unsetSecret ?? []) {
    if (Object.hasOwn(secrets, name)) throw new UsageError(`--secret and --unset-secret both name "${name}"`);
    secrets[name] = null;
  }
  if (Object.keys(secrets).length > 0) patch.secrets = secrets;
  if (flags.label?.length) patch.labels = parsePairs(flags.label, '--label');
  return patch;
}

function jsonObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--config takes a JSON object, such as {"region":"eu"}');
  }
  return value as Record<string, unknown>;
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function printTable(out: Output, views: InstanceView[]): void {
  out.table(
    ['ID', 'FLOW', 'NAME', 'ENABLED', 'LABELS', 'SECRETS', 'CONFIG'],
    views.map((v) => [
      v.id,
      v.flow,
      v.isDefault ? `${v.name} ${out.c.dim('(default)')}` : v.name,
      v.enabled ? out.c.green('yes') : out.c.red('no'),
      labelsText(v.labels),
      v.secretKeys.join(','),
      preview(v.config, 60),
    ]),
    { flex: 6 },
  );
}

/** One instance for people (secrets by name only), or as JSON (the view has no secret values). */
function print(ctx: CliContext, v: InstanceView, json: boolean | undefined): void {
  const out = ctx.out;
  if (json) {
    out.json(v);
    return;
  }
  const row = (k: string, value: string) => out.line(`${out.c.dim(k.padEnd(9))}${value}`);
  row('id', v.id);
  row('flow', v.flow);
  row('name', v.isDefault ? `${v.name} (the flow's default instance)` : v.name);
  row('enabled', v.enabled ? 'yes' : 'no');
  row('labels', labelsText(v.labels) || '-');
  row('secrets', v.secretKeys.length ? `${v.secretKeys.join(', ')} (set; never shown)` : '-');
  row('created', formatTime(v.createdAt));
  row('updated', formatTime(v.updatedAt));
  out.line(out.c.dim('config'));
  out.line(JSON.stringify(v.config, null, 2));
}
