/** The version of streamc, recorded in checkpoints and table commits and printed by `streamc version`. */
export const STREAMC_VERSION = "0.1.0";
