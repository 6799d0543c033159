// Boots zazen under QEMU (iso-bios) and checks the REPL end to end.
import { describeIsoBoot } from './isoBoot';

describeIsoBoot('iso-bios');
