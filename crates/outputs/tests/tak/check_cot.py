"""Reads CoT events (one XML document per line) on stdin, converts each with takproto (the TAK
ecosystem's CoT XML -> TAK protobuf converter, as TAK clients and servers use on the wire),
parses the protobuf back and prints one JSON object per event with the fields TAK sees.
Exit status 3 when takproto is not installed."""
import json
import sys

try:
    import takproto
except ImportError as e:  # pragma: no cover
    print(f"takproto unavailable: {e}", file=sys.stderr)
    sys.exit(3)

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = takproto.parse_proto(takproto.xml2proto(line))
    ev = msg.cotEvent
    d = ev.detail
    print(json.dumps({
        "uid": ev.uid, "type": ev.type, "how": ev.how,
        "send_ms": ev.sendTime, "start_ms": ev.startTime, "stale_ms": ev.staleTime,
        "lat": ev.lat, "lon": ev.lon, "hae": ev.hae, "ce": ev.ce, "le": ev.le,
        "callsign": d.contact.callsign,
        "course": d.track.course, "speed": d.track.speed,
        "xml_detail": d.xmlDetail,
    }))
