import type { DispenserStateName } from '../dispenser.js';

/** What a person at the dispenser sees. */
export interface DispenserPanelView {
  lcd: string[];
  valveOpen: boolean;
  state: DispenserStateName;
  connected: boolean;
  flowRateMlPerSecond: number;
}

/** A dispenser's front panel, whether the dispenser runs in this process or is attached over its control endpoint. */
export interface DispenserPanel {
  /** Resolves once the firmware has handled the keys (attached over the control endpoint: once sent). */
  press(keys: string): Promise<void>;
  view(): DispenserPanelView;
  /** Called on every LCD or valve change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** mL/s through the open valve; 0 is a dry tank. */
  setFlowRate(mlPerSecond: number): void;
}
