/**
 * Answered to a navigation from another site: reloads the same URL from our own origin (a meta
 * refresh, no script), so the browser sends the SameSite=Strict session cookie this time.
 */
import type { AssetUrls } from '../context.js';

export function RefreshPage(props: { url: string; assets: AssetUrls }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={`0;url=${props.url}`} />
        <title>Opening Retrace</title>
        <link rel="stylesheet" href={props.assets.css} />
      </head>
      <body>
        <main id="main">
          <h1>Opening Retrace</h1>
          <p>
            <a href={props.url}>Continue to the dashboard</a>
          </p>
        </main>
      </body>
    </html>
  );
}
