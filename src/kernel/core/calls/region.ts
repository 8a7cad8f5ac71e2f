/**
 * Memory regions. Each region sits in one domain's pool (and, if shared, names the one peer domain it
 * may be shared with); its world (TZASC attribute) and kind are static. Authority: the owner maps it with
 * any rights its kind allows; the other partitions of the region's domains map it within the rights the
 * owner shares. The kernel keeps exact reference counts (partitions mapping each region, regions mapped
 * by each partition, windows allocated per device).
 */
import type { Theory } from '../../../proof/sorts.js';
import { E } from '../errors.js';
import type { Kit } from '../kit.js';
import { W, X } from '../profile.js';
import { DEVICE, PRIVATE, SHARED, type KState } from '../state.js';
import type { CallImpls } from './define.js';

/** The rights a mapping of region r may carry, by its kind (the profile's region rules). */
export function kindRights<T extends Theory>(x: Kit<T>, s: KState<T>, r: T['bv']): T['bv'] {
  const { o, k } = x;
  const rules = x.c.p.regionRules;
  const kind = o.select(s.regionKind, r);
  return o.ite(
    o.eq(kind, x.lit(k.Small, PRIVATE)),
    () => x.lit(k.Rights, rules.privateRights),
    () =>
      o.ite(
        o.eq(kind, x.lit(k.Small, SHARED)),
        () => x.lit(k.Rights, rules.sharedRights),
        () => x.lit(k.Rights, rules.deviceRights),
      ),
  );
}

export function isDeviceWindow<T extends Theory>(x: Kit<T>, s: KState<T>, r: T['bv']): T['bool'] {
  return x.o.eq(x.o.select(s.regionKind, r), x.lit(x.k.Small, DEVICE));
}

/** Write-xor-execute, when the profile asks for it. */
export function wxorx<T extends Theory>(x: Kit<T>, rights: T['bv']): T['bool'] {
  const { o, k } = x;
  return o.ne(o.band(rights, x.lit(k.Rights, W | X)), x.lit(k.Rights, W | X));
}

export const regionCalls: CallImpls<
  'region_alloc' | 'region_free' | 'region_map' | 'region_unmap' | 'region_share' | 'region_revoke'
> = {
  region_alloc: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const dev = o.select(s.regionDev, r);
    return x.run(
      s,
      [
        { name: 'region_alloc.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'region_alloc.region', ok: () => x.inRange(r, c.p.regions), code: E.EINVAL },
        {
          name: 'region_alloc.pool',
          ok: () => o.eq(o.select(s.regionDom, r), x.dom(s, a.caller)),
          code: E.EPERM,
        },
        { name: 'region_alloc.free', ok: () => x.isNone(o.select(s.regionOwner, r)), code: E.EBUSY },
        {
          name: 'region_alloc.device-owner',
          ok: () => o.implies(isDeviceWindow(x, s, r), o.eq(o.select(s.devOwner, dev), a.caller)),
          code: E.EPERM,
        },
      ],
      () => ({
        state: x.set(s, {
          regionOwner: o.store(s.regionOwner, r, a.caller),
          partOwned: x.upd('region_alloc.owned', () => x.bump(s.partOwned, a.caller, k.Count), s.partOwned),
          devWindows: x.upd(
            'region_alloc.windows',
            () =>
              o.ite(
                isDeviceWindow(x, s, r),
                () => x.bump(s.devWindows, dev, k.Count),
                () => s.devWindows,
              ),
            s.devWindows,
          ),
        }),
      }),
    );
  },

  region_free: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const owner = o.select(s.regionOwner, r);
    const dev = o.select(s.regionDev, r);
    return x.run(
      s,
      [
        { name: 'region_free.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'region_free.region', ok: () => x.inRange(r, c.p.regions), code: E.EINVAL },
        {
          name: 'region_free.owner',
          ok: () => o.or(o.eq(owner, a.caller), o.and(x.isAdmin(s, a.caller), o.not(x.isNone(owner)))),
          code: E.EPERM,
        },
        {
          name: 'region_free.unmapped',
          ok: () => o.eq(o.select(s.regionRefs, r), o.lit(k.Count, 0)),
          code: E.EBUSY,
        },
      ],
      () => ({
        state: x.set(s, {
          regionOwner: o.store(s.regionOwner, r, x.NONE),
          regionShare: x.upd(
            'region_free.share',
            () => o.store(s.regionShare, r, o.lit(k.Rights, 0)),
            s.regionShare,
          ),
          partOwned: x.upd('region_free.owned', () => x.drop(s.partOwned, owner, k.Count), s.partOwned),
          devWindows: x.upd(
            'region_free.windows',
            () =>
              o.ite(
                isDeviceWindow(x, s, r),
                () => x.drop(s.devWindows, dev, k.Count),
                () => s.devWindows,
              ),
            s.devWindows,
          ),
        }),
      }),
    );
  },

  region_map: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const me = x.dom(s, a.caller);
    const owner = o.select(s.regionOwner, r);
    const old = o.select2(s.map, a.caller, r);
    const fresh = o.eq(old, o.lit(k.Rights, 0));
    const rules = c.p.regionRules;
    const guards = [
      { name: 'region_map.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
      { name: 'region_map.region', ok: () => x.inRange(r, c.p.regions), code: E.EINVAL },
      { name: 'region_map.nonempty', ok: () => o.ne(a.rights, o.lit(k.Rights, 0)), code: E.EINVAL },
      { name: 'region_map.kind-rights', ok: () => x.subset(a.rights, kindRights(x, s, r)), code: E.ERIGHTS },
      ...(rules.wxorx ? [{ name: 'region_map.wxorx', ok: () => wxorx(x, a.rights), code: E.ERIGHTS }] : []),
      {
        name: 'region_map.domain',
        ok: () => o.or(o.eq(me, o.select(s.regionDom, r)), o.eq(me, o.select(s.regionPeer, r))),
        code: E.EPERM,
      },
      { name: 'region_map.allocated', ok: () => o.not(x.isNone(owner)), code: E.ENOENT },
      {
        name: 'region_map.grant',
        ok: () => o.or(o.eq(owner, a.caller), x.subset(a.rights, o.select(s.regionShare, r))),
        code: E.ERIGHTS,
      },
      // Vacuous (and so not a guard) when every region fits at once.
      ...(rules.maxMapsPerPartition < c.p.regions
        ? [
            {
              name: 'region_map.limit',
              ok: () =>
                o.or(
                  o.not(fresh),
                  o.ult(o.select(s.partMaps, a.caller), o.lit(k.Count, rules.maxMapsPerPartition)),
                ),
              code: E.ELIMIT,
            },
          ]
        : []),
    ];
    return x.run(s, guards, () => ({
      state: x.set(s, {
        map: o.store2(s.map, a.caller, r, a.rights),
        regionRefs: x.upd(
          'region_map.refs',
          () =>
            o.ite(
              fresh,
              () => x.bump(s.regionRefs, r, k.Count),
              () => s.regionRefs,
            ),
          s.regionRefs,
        ),
        partMaps: x.upd(
          'region_map.maps',
          () =>
            o.ite(
              fresh,
              () => x.bump(s.partMaps, a.caller, k.Count),
              () => s.partMaps,
            ),
          s.partMaps,
        ),
      }),
    }));
  },

  region_unmap: (x, s, a) => {
    const { o, k } = x;
    const r = a.region;
    return x.run(
      s,
      [
        { name: 'region_unmap.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        {
          name: 'region_unmap.mapped',
          ok: () => o.ne(o.select2(s.map, a.caller, r), o.lit(k.Rights, 0)),
          code: E.ENOENT,
        },
      ],
      () => ({
        state: x.set(s, {
          map: o.store2(s.map, a.caller, r, o.lit(k.Rights, 0)),
          regionRefs: x.upd('region_unmap.refs', () => x.drop(s.regionRefs, r, k.Count), s.regionRefs),
          partMaps: x.upd('region_unmap.maps', () => x.drop(s.partMaps, a.caller, k.Count), s.partMaps),
        }),
      }),
    );
  },

  region_share: (x, s, a) => {
    const { o, c } = x;
    const r = a.region;
    return x.run(
      s,
      [
        { name: 'region_share.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'region_share.region', ok: () => x.inRange(r, c.p.regions), code: E.EINVAL },
        { name: 'region_share.owner', ok: () => o.eq(o.select(s.regionOwner, r), a.caller), code: E.EPERM },
        {
          name: 'region_share.kind-rights',
          ok: () => x.subset(a.rights, kindRights(x, s, r)),
          code: E.ERIGHTS,
        },
      ],
      () => ({ state: x.set(s, { regionShare: o.store(s.regionShare, r, a.rights) }) }),
    );
  },

  region_revoke: (x, s, a) => {
    const { o, k, c } = x;
    const r = a.region;
    const zero = o.lit(k.Rights, 0);
    const P = c.p.partitions;
    return x.run(
      s,
      [
        { name: 'region_revoke.caller', ok: () => x.runnable(s, a.caller), code: E.ENOTRUNNING },
        { name: 'region_revoke.region', ok: () => x.inRange(r, c.p.regions), code: E.EINVAL },
        { name: 'region_revoke.owner', ok: () => o.eq(o.select(s.regionOwner, r), a.caller), code: E.EPERM },
        {
          // The Normal World cannot take memory back from the Secure World: while a region it shares with a
          // secure peer is mapped by anyone else, it may not revoke (it learns that from the count alone).
          name: 'region_revoke.world',
          ok: () =>
            o.or(
              x.securePart(s, a.caller),
              o.not(x.secureDom(s, o.select(s.regionPeer, r))),
              o.eq(
                o.select(s.regionRefs, r),
                o.ite(
                  o.ne(o.select2(s.map, a.caller, r), zero),
                  () => o.lit(k.Count, 1),
                  () => o.lit(k.Count, 0),
                ),
              ),
            ),
          code: E.EWORLD,
        },
      ],
      () => {
        // Bounded by the profile: one pass over the partitions.
        const swept = o.fold(P, { map: s.map, maps: s.partMaps }, (acc, p) => {
          const pi = x.idx(p);
          const drop = o.and(o.ne(pi, a.caller), o.ne(o.select2(acc.map, pi, r), zero));
          return {
            map: x.upd(
              'region_revoke.unmap',
              () =>
                o.ite(
                  drop,
                  () => o.store2(acc.map, pi, r, zero),
                  () => acc.map,
                ),
              acc.map,
            ),
            maps: x.upd(
              'region_revoke.maps',
              () =>
                o.ite(
                  drop,
                  () => x.drop(acc.maps, pi, k.Count),
                  () => acc.maps,
                ),
              acc.maps,
            ),
          };
        });
        const ownerMaps = o.ne(o.select2(s.map, a.caller, r), zero);
        return {
          state: x.set(s, {
            regionShare: x.upd('region_revoke.share', () => o.store(s.regionShare, r, zero), s.regionShare),
            map: swept.map,
            partMaps: swept.maps,
            regionRefs: x.upd(
              'region_revoke.refs',
              () =>
                o.store(
                  s.regionRefs,
                  r,
                  o.ite(
                    ownerMaps,
                    () => o.lit(k.Count, 1),
                    () => o.lit(k.Count, 0),
                  ),
                ),
              s.regionRefs,
            ),
          }),
        };
      },
    );
  },
};
