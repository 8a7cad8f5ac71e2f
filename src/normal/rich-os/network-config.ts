/**
 * The rich OS's network configuration on the iot-gateway's WAN (documentation addresses, RFC 5737
 * TEST-NET-2). The lab's remote hosts use the same subnet.
 */
export const GATEWAY_WAN = { address: '198.51.100.10', prefixLength: 24 } as const;
export const WAN_SUBNET_PREFIX = '198.51.100.';

/** The services the rich OS runs on the gateway, and the port the 2015 Jeep attack reached (D-Bus). */
export const SERVICE_PORTS = { echo: 7, http: 80, dbus: 6667 } as const;
