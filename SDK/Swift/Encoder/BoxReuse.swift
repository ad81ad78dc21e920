// Reusing the standard library's keyed-container boxes.
//
// `KeyedEncodingContainer(x)` costs three generic-metadata lookups (the
// container type, its conformance, the stdlib's box type) and a heap box
// for every object encoded: more than writing a small struct. So boxes are
// kept, per key type, and handed out again once nobody else holds them (the
// box is uniquely referenced by this cache), with their FrameRef pointed at
// the new frame. The kept boxes are stored properties of FastJSONEncoder
// (FastJSONEncoder.swift), read here directly: wrapped in a struct of their
// own they cost the greeter a few instructions per request more.
//
// This leans on a layout the standard library does not promise: that a
// KeyedEncodingContainer is a struct holding nothing but the reference to
// its box (today `_box`, a `_KeyedEncodingContainerBox<Concrete>` that
// holds our FastKeyedContainer), so the container and an AnyObject are the
// same bits. `probeContainerLayout` checks that once per process; if it
// ever stops being true, boxes are simply not reused.
// UnitSDKEncoderBoxReuseTests pins the probe's verdict on the toolchain the
// tests run on, so a toolchain that changes the layout fails a test rather
// than quietly losing the reuse.
//
// The switch. Reuse is on when the probe allows it, unless
//   - the environment variable BERTH_SDK_BOX_REUSE is 0 (or false, off,
//     no) in the plugin's process, read once, when the process first
//     encodes a value; or
//   - the SDK is compiled with the condition BERTH_SDK_NO_BOX_REUSE
//     (`swift build -Xswiftc -DBERTH_SDK_NO_BOX_REUSE`).
// Off, every keyed container gets a new box, as `KeyedEncodingContainer(_:)`
// always does: the safe path, the same bytes, one allocation per object more.
// Tests switch it with `setBoxReuse`.
//
// Mirrors from JSONEncoder: nothing. JSONEncoder also hands out a new box
// per `container(keyedBy:)`; this only saves that allocation.

import Foundation

extension FastJSONEncoder {
    private static let maximumCachedBoxes = 32

    /// The keyed container for the object in frame `index`: a kept box that
    /// nobody holds, pointed at frame `index`, when the reuse is on; else a
    /// new container, kept while there is room.
    func keyedContainer<Key: CodingKey>(_: Key.Type, _ index: Int, _ id: Int) -> KeyedEncodingContainer<Key> {
        guard isReusingBoxes else {
            return KeyedEncodingContainer(FastKeyedContainer<Key>(state: state, frame: FrameRef(index, id)))
        }
        let keyType = ObjectIdentifier(Key.self)
        var slot = 0
        while slot < boxes.count {
            if boxKeyTypes[slot] == keyType, isKnownUniquelyReferenced(&boxes[slot]) {
                let frame = boxFrames[slot]
                frame.index = index
                frame.id = id
                return unsafeBitCast(boxes[slot], to: KeyedEncodingContainer<Key>.self)
            }
            slot += 1
        }
        let frame = FrameRef(index, id)
        let container = KeyedEncodingContainer(FastKeyedContainer<Key>(state: state, frame: frame))
        if boxes.count < Self.maximumCachedBoxes {
            boxKeyTypes.append(keyType)
            boxes.append(unsafeBitCast(container, to: AnyObject.self))
            boxFrames.append(frame)
        }
        return container
    }

    /// Turns the reuse on (if the probe allows it) or off, for tests.
    /// Turning it off forgets the kept boxes.
    func setBoxReuse(_ on: Bool) {
        isReusingBoxes = on && Self.boxReuseIsUsable
        if !on {
            boxKeyTypes = []
            boxes = []
            boxFrames = []
        }
    }

    // MARK: The switch and the probe

    /// The environment variable and the compilation condition, read once.
    static let boxReuseIsSwitchedOn: Bool = {
        #if BERTH_SDK_NO_BOX_REUSE
        return false
        #else
        return switchAllowsBoxReuse(environmentValue: getenv("BERTH_SDK_BOX_REUSE").map { String(cString: $0) })
        #endif
    }()

    /// False for 0, false, off and no (any case); unset or anything else
    /// leaves the reuse on.
    static func switchAllowsBoxReuse(environmentValue: String?) -> Bool {
        guard let value = environmentValue?.lowercased() else { return true }
        return !["0", "false", "off", "no"].contains(value)
    }

    /// The probe's verdict on this process's standard library.
    static let boxReuseIsUsable = probeContainerLayout()

    /// Checks, once, that a KeyedEncodingContainer is nothing but a
    /// reference to its box: same size, the reference is uniquely held once
    /// the container is gone, and turning it back into a container reaches
    /// the container inside.
    private static func probeContainerLayout() -> Bool {
        enum ProbeKey: CodingKey { case probe }
        typealias Container = KeyedEncodingContainer<ProbeKey>
        guard MemoryLayout<Container>.size == MemoryLayout<AnyObject>.size,
              MemoryLayout<Container>.alignment == MemoryLayout<AnyObject>.alignment else { return false }
        let probe = UnsafeMutablePointer<FastJSONState>.allocate(capacity: 1)
        probe.initialize(to: FastJSONState())
        defer {
            probe.pointee.deallocateBuffers()
            probe.deinitialize(count: 1)
            probe.deallocate()
        }
        var box = unsafeBitCast(Container(FastKeyedContainer<ProbeKey>(state: probe, frame: FrameRef(7, 7))),
                                to: AnyObject.self)
        guard isKnownUniquelyReferenced(&box) else { return false }
        var container = unsafeBitCast(box, to: Container.self)
        // Frame 7 does not exist: the write is refused, which marks the
        // probe state failed, proving the call arrived.
        try? container.encodeNil(forKey: .probe)
        return probe.pointee.failed
    }
}
