/** The host TCP/IP stack: the public surface for the Normal World proxy driver and the lab's remote hosts. */
export { NetworkStack, type LinkPort, type NetworkStackOptions, type StackCounters } from './stack.js';
export type { ArpEntry, ArpOptions } from './arp.js';
export type { IcmpErrorReport, PingOptions, PingRequest, PingResult } from './icmp.js';
export type { Ipv4SendResult } from './ipv4.js';
export {
  UdpSocket,
  type UdpMessage,
  type UdpSendResult,
  type UdpSocketHandlers,
  type UdpBindOptions,
  type UdpBindResult,
} from './udp.js';
export {
  TcpListener,
  type ConnectOptions,
  type ConnectResult,
  type ConnectionTuple,
  type ListenResult,
  type TcpListenerHandlers,
  type TcpOptions,
  type TcpStateChange,
} from './tcp.js';
export type {
  TcpCloseReason,
  TcpSendResult,
  TcpSocket,
  TcpSocketHandlers,
  TcpState,
} from './tcp-connection.js';
export {
  EthernetSegment,
  Simulation,
  type FrameEvent,
  type FrameFate,
  type LinkConditions,
} from './simulation.js';
