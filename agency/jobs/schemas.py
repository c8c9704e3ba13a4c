import marshmallow as ma

from agency.jobs.queue import FAILURE_MESSAGES


class JobSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "job_1c9e..."})
    name = ma.fields.String(metadata={"example": "match_care_request"})
    status = ma.fields.String(
        metadata={"example": "finished", "enum": ["queued", "started", "finished", "failed"]}
    )
    progress = ma.fields.Integer(metadata={"example": 100, "description": "Percent done"})
    result = ma.fields.Dict(allow_none=True)
    result_path = ma.fields.String(
        allow_none=True, metadata={"example": "/care-requests/req_3b.../suggestions"}
    )
    error = ma.fields.String(
        allow_none=True,
        metadata={
            "example": "matching_failed",
            "description": "A stable code when the job failed: " + ", ".join(FAILURE_MESSAGES),
        },
    )
    error_message = ma.fields.Function(
        lambda record: FAILURE_MESSAGES.get(record.error or "") if record.error else None,
        allow_none=True,
        metadata={"description": "A short message for people; the details are in the logs"},
    )
    attempts = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
