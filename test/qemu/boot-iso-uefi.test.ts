// Boots zazen under QEMU (iso-uefi) and checks the REPL end to end.
import { describeIsoBoot } from './isoBoot';

describeIsoBoot('iso-uefi');
