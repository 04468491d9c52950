import { css } from 'lit';

/** The console's list tables: a `.scroll` wrapper that scrolls sideways on a phone, ruled rows, `.n` numbers, a `.pager`. */
export const tableStyles = css`
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid #e6ebef; white-space: nowrap; }
  th { color: #5d6f7c; font-weight: 600; }
  .n { text-align: right; font-variant-numeric: tabular-nums; }
  .pager { display: flex; gap: 12px; align-items: center; justify-content: flex-end; margin-top: 10px; }
`;
