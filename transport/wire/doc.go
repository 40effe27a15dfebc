// Package wire is Purser's wire codec (SPEC §8): it parses request subjects,
// decodes request bodies into actors commands, and encodes replies, errors
// and history pages, in msgpack or JSON. It does no I/O and holds no state;
// the NATS transport calls it around each request:
//
//	route, err := subjects.Parse(msg.Subject)            // op + wallet
//	enc := wire.Detect(msg.Data, msg.Header.Get("Content-Type"))
//	cmd, err := decoder.Decode(route.Op, msg.Data, enc)  // or DecodeHistory
//	... wallet actor ...
//	out, _ = wire.AppendReply(out[:0], enc, reply)       // or AppendError + ErrorHeaders
//
// Every refusal is an *actors.Error with the code the contract promises;
// the request was applied nowhere and must be answered with it.
//
// Decoding follows payment-API manners (Stripe): a field the op does not
// take is invalid_request naming it, a field given twice is
// invalid_request, a value of the wrong type is invalid_request — except
// the amount fields (amount, actual, overdraft_limit), where anything but an
// integer that fits int64 is invalid_amount (SPEC §1). Choices the contract
// leaves open:
//
//   - An integral number written as a float (JSON 1.0 or 1e3, any msgpack
//     float) is not an integer: invalid_amount for amounts, invalid_request
//     elsewhere. Money never passes through a float, and a client that
//     writes one has a bug worth surfacing.
//   - null is a wrong type like any other: leave an optional field out
//     rather than sending null.
//   - An explicit ttl_ms of 0 or less is invalid_request (the core reads 0
//     as "absent"); so is an explicit extend amount of 0 (the core reads it
//     as "keep"). A settle without actual is invalid_amount.
//   - Times must lie in (1970-01-01, 2262-04-11]: the core stores unix
//     nanoseconds and reads 0 as "absent".
//   - configure's policies and features are decoded as strictly as the top
//     level: an unknown or repeated key, a missing window or limit, a wrong
//     type is invalid_request; a cap's limit, a rate's credits and a feature
//     limit's amount are amounts (invalid_amount). An explicit 0 for
//     requests or credits is refused here (the core reads 0 as "absent").
//     An empty object is given and empty: it clears the map.
//   - check takes no id (it changes nothing), so an id there is an unknown
//     field.
//   - An empty body is the empty object in either encoding; its reply is
//     msgpack unless the Content-Type says JSON.
//
// Strings must be valid UTF-8 in both encodings; msgpack bin values are not
// strings.
package wire
