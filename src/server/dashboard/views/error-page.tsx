import type { PageContext } from '../context.js';
import { Layout } from './layout.js';

export function ErrorPage(props: { ctx: PageContext; status: number; title: string; message: string }) {
  return (
    <Layout ctx={props.ctx} title={props.title}>
      <p class="error-text">{props.message}</p>
      <p>
        <a href="/">Go to What needs attention</a>
      </p>
    </Layout>
  );
}
