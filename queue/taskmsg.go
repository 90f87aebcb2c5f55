package queue

import (
	"encoding/binary"
	"time"
)

// Intake schedules an event's asynq task inside its own script (the events
// package's acceptScript, with ScheduleLua), so that the key's look-up,
// the task, the admission, the record and the order index are one atomic
// step and one round trip. The script writes the task as asynq v0.26's
// Client.Enqueue with ProcessAt does (rdb.Schedule): the task hash
// asynq:{q}:t:<id> with "msg" and "state" "scheduled", the id in
// asynq:{q}:scheduled at the due time in unix seconds, and the queue's name
// in asynq:queues. "msg" is asynq's TaskMessage protobuf; TaskMessage
// encodes the fields intake sets. TestTaskMessageIsAsynqs holds both to
// what asynq's own client writes, so an asynq upgrade that changes either
// fails it.

// ScheduleLua defines schedule(task, scheduled, id, msg, due): it writes
// the task id with message msg into its hash task (TaskKey) and schedules
// it in asynq's scheduled set at due (unix seconds), as asynq's client
// schedules a task.
const ScheduleLua = `
local function schedule(task, scheduled, id, msg, due)
  redis.call("HSET", task, "msg", msg, "state", "scheduled")
  redis.call("ZADD", scheduled, due, id)
end
`

// TaskMessage is the protobuf encoding of asynq's TaskMessage (field numbers
// of asynq's internal/proto/asynq.proto) of a task that asynq.NewTask(typ,
// payload) enqueued with TaskID(id), Queue(queue), MaxRetry(retry) and
// Timeout(timeout) would get: no headers, no deadline, no unique key,
// group or retention. Fields go in field-number order, zero values left
// out, as proto.Marshal writes them.
func TaskMessage(typ string, payload []byte, id, queue string, retry int, timeout time.Duration) []byte {
	b := make([]byte, 0, len(payload)+len(typ)+len(id)+len(queue)+32)
	b = appendBytesField(b, 1, []byte(typ))
	b = appendBytesField(b, 2, payload)
	b = appendBytesField(b, 3, []byte(id))
	b = appendBytesField(b, 4, []byte(queue))
	b = appendVarintField(b, 5, uint64(int64(int32(retry)))) // int32: a negative one sign-extends, as protobuf does
	b = appendVarintField(b, 8, uint64(int64(timeout.Seconds())))
	return b
}

// appendBytesField appends a length-delimited field (wire type 2), unless
// it is empty.
func appendBytesField(b []byte, field uint64, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, field<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendVarintField appends a varint field (wire type 0), unless it is 0.
func appendVarintField(b []byte, field, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = binary.AppendUvarint(b, field<<3)
	return binary.AppendUvarint(b, v)
}
