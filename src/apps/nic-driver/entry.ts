/**
 * The NIC driver trusted application. It owns `eth0` (claimed at boot, its interrupt bound to bit IRQ of
 * the driver's notification) and drives it through its registers and its DMA descriptor rings, which it
 * keeps in its own secure memory (`nic-dma`). It moves frames between the NIC and the firewall over the
 * `nic-link` rings in secure memory shared with the firewall's domain:
 *
 * - receive: the NIC writes frames into receive buffers in `nic-dma`; the driver copies each one (one
 *   `mem_read`) onto the receive ring, a batch per copy, and signals the firewall;
 * - transmit: the firewall publishes frames on the transmit ring and signals; the driver points NIC
 *   transmit descriptors straight at them (zero copy: the NIC's DMA reads the ring), rings TX_TAIL, and
 *   gives the ring space back once the NIC reports the frames sent.
 *
 * It looks at no frame's content. It never waits for the firewall: with the receive ring full, the NIC's
 * buffers fill and the NIC drops (and counts) what it cannot store.
 */
import { bootInfo, deviceRegisters, kcall, log, regionCopier, regionInfo } from '../../kernel/abi/sys.js';
import { RingNic } from '../../lib/nic/ring-nic.js';
import { RingConsumer, RingProducer } from '../../lib/ring/frame-ring.js';
import {
  DriverEvent,
  DriverSlot,
  LINK_UP_OFFSET,
  NIC_BUFFER_BYTES,
  NIC_DESCRIPTORS,
  NIC_DEVICE,
  NIC_DMA_REGION,
  NIC_LINK_REGION,
  NIC_RECEIVE_RING,
  NIC_RING_CAPACITY,
  NIC_TRANSMIT_RING,
} from './protocol.js';
import { ConsumerDoorbell } from '../../lib/nic/link.js';

interface Info {
  readonly partition: string;
  readonly regions: readonly { name: string; index: number }[];
  readonly devices: readonly { name: string; index: number }[];
}

const info = bootInfo<Info>();
const regionIndex = (name: string) => info.regions.find((r) => r.name === name)?.index;
const dma = regionIndex(NIC_DMA_REGION);
const link = regionIndex(NIC_LINK_REGION);
const device = info.devices.find((d) => d.name === NIC_DEVICE)?.index;
const dmaInfo = dma === undefined ? undefined : regionInfo(dma);
const linkInfo = link === undefined ? undefined : regionInfo(link);

if (dma === undefined || link === undefined || device === undefined || !dmaInfo || !linkInfo) {
  log(
    `nic-driver: not configured (regions ${NIC_DMA_REGION}, ${NIC_LINK_REGION}, device ${NIC_DEVICE} mapped at boot)`,
  );
} else {
  const linkMemory = regionCopier(link);
  const nic = new RingNic<number>(deviceRegisters(device), {
    memory: regionCopier(dma),
    physicalBase: dmaInfo.physicalBase,
    descriptors: NIC_DESCRIPTORS,
    bufferBytes: NIC_BUFFER_BYTES,
    transmitBuffers: false,
  });
  const toFirewall = new RingProducer(linkMemory, { base: NIC_RECEIVE_RING, capacity: NIC_RING_CAPACITY });
  const fromFirewall = new RingConsumer(linkMemory, { base: NIC_TRANSMIT_RING, capacity: NIC_RING_CAPACITY });
  toFirewall.resume();
  fromFirewall.resume();
  nic.start();
  const header = new Uint8Array(LINK_UP_OFFSET + 4);
  header.set(nic.mac, 0);
  header[LINK_UP_OFFSET] = 1;
  linkMemory.write(0, header);
  kcall('notification_signal', DriverSlot.FIREWALL, ConsumerDoorbell.RECEIVED);
  const mac = Array.from(nic.mac, (b) => b.toString(16).padStart(2, '0')).join(':');
  log(
    `nic-driver: ${NIC_DEVICE} up, MAC ${mac}, ${NIC_DESCRIPTORS} descriptors per ring, DMA at 0x${dmaInfo.physicalBase.toString(16)}`,
  );

  let receivedBlocked = false;
  let transmitBacklog = false;
  for (;;) {
    const w = kcall('notification_wait', DriverSlot.EVENTS);
    if (w.code !== 0) {
      log(`nic-driver: its notification is gone (code ${w.code}); stopping`);
      break;
    }
    const bits = w.value | w.badge; // bits already pending come back as the value, a wake carries them in the badge
    if (bits & DriverEvent.IRQ) nic.takeInterrupts();
    let signal = 0;

    // Receive: NIC buffers → receive ring (stops, keeping the buffers, when the ring is full).
    if (bits & (DriverEvent.IRQ | DriverEvent.RECEIVE_SPACE) || receivedBlocked) {
      toFirewall.refresh();
      receivedBlocked = false;
      nic.receive((frame) => {
        if (toFirewall.push(frame)) return true;
        receivedBlocked = true;
        return false;
      });
      if (toFirewall.publish() > 0) signal |= ConsumerDoorbell.RECEIVED;
      if (receivedBlocked) toFirewall.sleep();
    }

    // Transmit completions: give their ring space back.
    const done = nic.reclaim();
    const last = done[done.length - 1];
    if (last !== undefined) {
      fromFirewall.release(last);
      if (fromFirewall.takeProducerAsleep()) signal |= ConsumerDoorbell.TRANSMIT_SPACE;
    }

    // Transmit: descriptors straight onto the frames in the ring.
    if (bits & DriverEvent.TRANSMIT || transmitBacklog) {
      const room = nic.transmitFree;
      const { frames } = fromFirewall.take(NIC_RING_CAPACITY, room);
      for (const f of frames) nic.transmitAt(linkInfo.physicalBase + f.offset, f.bytes.length, f.end);
      nic.kick();
      // With every descriptor in use there may be more: look again once the NIC has sent some.
      transmitBacklog = frames.length === room;
    }
    if (signal) kcall('notification_signal', DriverSlot.FIREWALL, signal);
    if (bits & DriverEvent.IRQ) kcall('irq_ack', device);
  }
}
