import { css } from 'lit';

/** Cards, badges, buttons and forms every page uses. */
export const sharedStyles = css`
  :host { display: block; }
  h2 { font-size: 1.15rem; margin: 0 0 0.75rem; }
  h3 { font-size: 1rem; margin: 0 0 0.5rem; }
  .card { background: #fff; border-radius: 12px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(20, 40, 60, 0.12); margin-bottom: 12px; }
  .grid { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
  .row { display: flex; justify-content: space-between; gap: 8px; padding: 4px 0; }
  .muted { color: #5d6f7c; font-size: 0.9rem; }
  .badge { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 0.8rem; font-weight: 600; }
  .ok { background: #d8f3e3; color: #11643a; }
  .bad { background: #fde0dd; color: #9b1c12; }
  .warn { background: #fff1cc; color: #7a5300; }
  .idle { background: #e6ebef; color: #44525c; }
  button, .button { font: inherit; border: 0; border-radius: 8px; padding: 10px 16px; background: #0b6e99; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; min-height: 44px; box-sizing: border-box; }
  button.secondary, .button.secondary { background: #e6ebef; color: #1c2b36; }
  button:disabled { opacity: 0.5; cursor: default; }
  input, select { font: inherit; padding: 10px 12px; border: 1px solid #b9c6cf; border-radius: 8px; min-height: 44px; box-sizing: border-box; width: 100%; background: #fff; }
  label { display: block; font-size: 0.9rem; margin: 8px 0 4px; color: #34444f; }
  .error { color: #9b1c12; margin: 8px 0; }
  .success { color: #11643a; margin: 8px 0; }
  a { color: #0b6e99; }
`;
