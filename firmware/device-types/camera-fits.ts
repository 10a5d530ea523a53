// Compile-time proof that Moddable's Camera class (as typed in embedded-io-image-in-camera.d.ts)
// fits what firmware/sensor/moddable-camera.ts expects, so the device platform can hand it in
// as is. Types only: nothing here is emitted into a bundle.

import type DeviceCamera from 'embedded:io/image/in/camera';
import type { ModdableCameraClass } from '../sensor/moddable-camera.js';

type Assert<T extends true> = T;
export type DeviceCameraFits = Assert<typeof DeviceCamera extends ModdableCameraClass ? true : false>;
