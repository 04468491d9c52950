import { css } from 'lit';

/**
 * The app shell both apps share (technicians' `tusafishe-app`, the console's `console-app`):
 * a sticky header with the user and **Sign out**, the navigation (tabs at the bottom on a
 * phone, a bar under the header from 900 px) and the page's `main`.
 */
export const appShellStyles = css`
  :host { display: block; min-height: 100vh; padding-bottom: 72px; }
  header { display: flex; align-items: center; gap: 10px; padding: 10px 14px; background: #0b4f6c; color: #fff; position: sticky; top: 0; z-index: 2; }
  header strong { flex: 1; white-space: nowrap; }
  /* The name (and role) gives way on a narrow phone, the title and Sign out do not. */
  .user { font-size: 0.85rem; opacity: 0.85; color: inherit; text-decoration: none; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .signout { font: inherit; font-size: 0.85rem; background: transparent; color: #fff; border: 1px solid rgba(255, 255, 255, 0.5); border-radius: 6px; padding: 6px 10px; cursor: pointer; min-height: 0; white-space: nowrap; }
  /* min-height: 0 undoes sharedStyles' 44 px buttons where a shell includes them. */
  nav { position: fixed; bottom: 0; left: 0; right: 0; display: flex; background: #fff; border-top: 1px solid #d5dee4; z-index: 2; }
  /* Six tabs share a 390 px phone: smaller type, each as wide as its label plus an equal share of the rest. */
  nav a { flex: 1 1 auto; text-align: center; padding: 14px 4px; color: #44525c; text-decoration: none; font-weight: 600; font-size: 0.8rem; }
  nav a.current { color: #0b6e99; box-shadow: inset 0 3px 0 #0b6e99; }
  main { padding: 12px; max-width: 1200px; margin: 0 auto; }
  @media (min-width: 900px) {
    :host { padding-bottom: 0; }
    nav { position: static; justify-content: center; border-top: 0; border-bottom: 1px solid #d5dee4; }
    nav a { flex: 0 0 140px; font-size: 1rem; }
    nav a.current { box-shadow: inset 0 -3px 0 #0b6e99; }
    main { padding: 20px; }
  }
`;
