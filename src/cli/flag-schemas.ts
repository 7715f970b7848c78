import { config } from 'zod/mini';
import { en } from 'zod/v4/locales';

/**
 * zod for the flags of the commands that only talk to the server (`session …`): the "mini"
 * build, imported by name (`import * as z from '../flag-schemas.js'`), so that the bundled
 * client path (dist/cli/client.cjs) carries only the ~40 KB it uses. Classic zod cannot be
 * tree-shaken and costs 80–200 ms of every such command's start — more than the rest of it.
 * Same checks, same messages: the English locale, which classic zod sets on import and mini
 * does not.
 */
config(en());

export { boolean, enum, minLength, object, optional, regex, strictObject, string } from 'zod/mini';
