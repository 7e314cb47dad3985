/**
 * `retrace migrate`: applies the store's pending migrations and says which, on SQLite and
 * PostgreSQL alike. For deployments that migrate once at release time and start their servers
 * and workers with `migrate: false` (or RETRACE_MIGRATE=false), so no process changes the schema
 * on its own.
 */
import type { Command } from 'commander';
import type { MigrationReport } from '../../stores/migration-report.js';
import { CliError } from '../cli-error.js';
import { addJsonOption, type Wrap } from '../command.js';

export function registerMigrate(program: Command, wrap: Wrap): void {
  const cmd = program
    .command('migrate')
    .description("Apply the store's pending migrations (creates the store if there is none) and say which");
  addJsonOption(cmd);
  cmd.addHelpText(
    'after',
    `
The store is the one every command uses: --store, RETRACE_STORE, retrace.config.ts, DATABASE_URL
(postgres://…), else .retrace/retrace.db. On PostgreSQL, Retrace's tables live in their own schema
(default "retrace"; postgres://…/db?schema=name). Safe to run from several machines at once.`,
  );
  cmd.action(
    wrap<{ json?: boolean }>(async (ctx, flags) => {
      const url = await ctx.storeUrl();
      const label = await ctx.storeLabel();
      // Loaded when the command runs, so `retrace --help` does not load the stores.
      const { openStore } = await import('../../stores/open-store.js');
      const store = openStore(url, { cwd: ctx.cwd, migrate: true });
      let report: MigrationReport | undefined;
      try {
        await store.init();
        report = (store as { migrations?: MigrationReport }).migrations;
      } finally {
        await store.close();
      }
      if (!report) throw new CliError(`The store at ${label} does not report its migrations`);
      if (flags.json) {
        ctx.out.json({ store: label, ...report });
        return 0;
      }
      const current = report.current ? report.current.name : 'no migrations';
      if (report.applied.length === 0) {
        ctx.out.line(`${label} is up to date (${current}).`);
      } else {
        const n = report.applied.length;
        ctx.out.line(`Applied ${n} migration${n === 1 ? '' : 's'} to ${label}:`);
        for (const m of report.applied) ctx.out.line(`  ${m.name}`);
        ctx.out.line(`The store is now at ${current}.`);
      }
      return 0;
    }),
  );
}
