import type { CommandTable } from '../command';

// Placeholder: the verbs of this group are added by their own issue.
export const commands: CommandTable = {};
