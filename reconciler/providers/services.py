"""What each posting service takes, from its own Pinterest page and API document: one table
per service (Capabilities), each limit, format, field and flow beside the sentence it comes from
(`sources`); where page and document disagree, the stricter is kept and both are named.

Kept apart from the adapters so that a plan reads them without loading any HTTP code, and so
that the five read side by side. The docs' tables are printed from them (providers.table).
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.media import PINTEREST_LIMITS
from reconciler.providers.base import Capabilities, TextLimits

CROSSPOSTIFY = Capabilities(
    updatable=frozenset(),
    can_delete=False,
    name="Crosspostify",
    fields=frozenset({"title", "description", "link"}),
    schedules=True,
    # ~10 minutes' lead time, and one more for the run itself.
    schedule_lead=11 * 60.0,
    boards_in_one_call=True,
    findable=False,  # no post listing, and no idempotency key either
    text_limits=TextLimits(description=500),
    media_limits=replace(
        PINTEREST_LIMITS,
        image_types=frozenset({"image/jpeg", "image/png"}),
        min_image_width=200,
        quiet_aspects=frozenset({1.5, 1.25, 1.0}),
    ),
    # Media go up through POST /media and are named by mediaId: no URL is ever taken.
    url_media=frozenset(),
    board_ids=r"\d+|board_\w+",
    sources={
        "title": 'its Pinterest page, of `title`: "Max 100 characters."',
        "description": 'its Pinterest page, of `caption`: "Max 500 characters."',
        "alt_text": "its Pinterest page names `title`, `caption` and `boardId` (and its API "
        "reference `link`), no alt text",
        "link": 'its API reference: `link` is "Pinterest only"; Pinterest\'s own 2,048',
        "shorteners": "not stated: advice only",
        "image types": 'its Pinterest page: "Format: JPG or PNG"',
        "image size": 'its Pinterest page: "Max file size: 20MB"',
        "image dimensions": 'its Pinterest page: "Min width: 200px"; Pinterest\'s own 100×100',
        "aspect ratios": 'its Pinterest page: "Square (1:1) and 4:5 also supported"',
        "video types": 'its Pinterest page: "Format: MP4 recommended" (MOV as Pinterest takes it)',
        "video size": "not stated: Pinterest's own 2 GB",
        "video length": 'its Pinterest page: "Max duration: 15 minutes", "Min duration: 4 seconds"',
        "upload size": "not stated",
        "cover": 'no cover field: "Pinterest generates a thumbnail from the first frame"',
        "cover_frame": 'no cover field: "Pinterest generates a thumbnail from the first frame"',
        "dominant_color": "no such field on its Pinterest page",
        "section": "no such field on its Pinterest page",
        "board ids": 'its Pinterest page\'s example: `"boardId": "board_living_room_456"`; '
        "Pinterest's own digit ids",
        "boards": 'its Pinterest page: "You can include multiple entries in the posts array — '
        "each with a different boardId — to save the same Pin to multiple boards simultaneously "
        'in a single API call."',
        "delete": "no delete or edit route in its Pinterest page or API reference",
        "scheduling": 'its Pinterest page, of `scheduledDate`: "Schedule the Pin for a future '
        'time (ISO 8601 with \'Z\' suffix)." and "Minimum lead time: ~10 minutes ahead" '
        "(pinops asks 11)",
    },
)


POSTPEER = Capabilities(
    updatable=frozenset(),
    can_delete=True,
    name="PostPeer",
    fields=frozenset({"title", "description", "link", "alt_text", "dominant_color", "cover"}),
    schedules=True,
    text_limits=TextLimits(description=500),
    media_limits=replace(
        PINTEREST_LIMITS,
        image_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        max_image_bytes=32_000_000,
    ),
    sources={
        "title": 'its Pinterest page: "Title: max 100 characters"',
        "description": 'its Pinterest page: "Description: max 500 characters (from content field)"',
        "alt_text": 'its Pinterest page, of `altText`: "Accessible image description, max 500 '
        'characters."',
        "link": 'its Pinterest page: "Link: must use HTTPS"; Pinterest\'s own 2,048',
        "shorteners": "not stated: advice only",
        "image types": "its Pinterest page's media table: Image, JPG, PNG, WebP",
        "image size": "its Pinterest page's media table: Image, Max Size 32 MB",
        "image dimensions": "not stated: Pinterest's own",
        "aspect ratios": "its Pinterest page names 1000x1500px (2:3 ratio) only",
        "video types": "its Pinterest page's media table: Video, MP4, MOV",
        "video size": "its Pinterest page's media table: Video, Max Size 2 GB",
        "video length": "not stated: Pinterest's own",
        "upload size": "its API document states none for POST /v1/media/upload",
        "cover": 'its Pinterest page, of `coverImageUrl` (not required): "Custom cover image URL '
        'for video pins."',
        "cover_frame": "no key-frame field on its Pinterest page or in its API document",
        "dominant_color": 'its Pinterest page, of `dominantColor`: "Hex color for loading '
        'placeholder"',
        "section": "no section field on its Pinterest page or in its API document",
        "board ids": 'Pinterest\'s digit ids (its Pinterest page: "id": "596867825554313696")',
        "boards": "one Pinterest target per post: each board is its own post",
        "delete": "its API document: DELETE /v1/posts/{postId}?deleteFromPlatforms=true",
        "scheduling": "its API document: `scheduledFor` and `timezone`, else `publishNow: true`; "
        "PostPeer refuses a `scheduledFor` in the past",
    },
)


POSTPROXY = Capabilities(
    updatable=frozenset(),
    can_delete=True,
    name="Postproxy",
    fields=frozenset({"title", "description", "link", "cover", "cover_frame"}),
    idempotency_window=24 * 3600.0,
    schedules=True,
    text_limits=TextLimits(description=500),
    media_limits=replace(PINTEREST_LIMITS, max_image_bytes=32_000_000),
    sources={
        "title": "its docs: `title` at most 100",
        "description": "its docs: the body becomes the description, character limit 500",
        "alt_text": 'its Pinterest page says "Postproxy lets you set all these fields per Pin", '
        "alt text among them, but its parameter table has no field for it",
        "link": "its docs: `destination_link` at most 2,048",
        "shorteners": "not stated: advice only",
        "image types": "its Pinterest page's media table: Image, jpg, gif, png, webp",
        "image size": "its Pinterest page's media table: Image, Max Size 32 MB (the 20MB its "
        "prose names is Pinterest's own, which it says Postproxy handles)",
        "image dimensions": 'its Pinterest page: "minimum 100x100px"',
        "aspect ratios": 'its Pinterest page: "recommended 2:3 aspect ratio (1000x1500px)", '
        "no other",
        "video types": "its Pinterest page's media table: Video, mp4, mov",
        "video size": "its Pinterest page's media table: Video, Max Size 2 GB",
        "video length": "its Pinterest page's media table: Video, Duration 4s - 15min",
        "upload size": "not stated for files sent inside the create",
        "cover": 'its Pinterest page, of `cover_url` (not required): "URL of cover image (video '
        'only)"',
        "cover_frame": "its Pinterest page, of `thumb_offset` (an integer, not required): "
        '"Thumbnail image offset in seconds (video only)"',
        "dominant_color": "no such field in its Pinterest parameters",
        "section": "no such field in its Pinterest parameters",
        "board ids": 'Pinterest\'s digit ids (its Pinterest page: "board_id": "987654321")',
        "boards": "one `board_id` per post: each board is its own post",
        "delete": "its docs: DELETE /api/posts/{id}?delete_on_platform=true",
        "scheduling": "its docs: `post.scheduled_at`; a time already past is not sent",
    },
)


ZERNIO = Capabilities(
    updatable=frozenset(),
    can_delete=True,
    name="Zernio",
    fields=frozenset({"title", "description", "link", "alt_text", "cover", "cover_frame"}),
    # Zernio replays an x-request-id for "~5 minutes" after the first request completed.
    idempotency_window=240.0,
    schedules=True,
    text_limits=TextLimits(description=500),
    media_limits=replace(
        PINTEREST_LIMITS, max_image_bytes=32_000_000, quiet_aspects=frozenset({1.5, 1.0, 2.1})
    ),
    refuses_shorteners=True,
    sources={
        "title": "its Pinterest page: Title limit, 100 characters",
        "description": "its Pinterest page: Description limit, 500 characters",
        "alt_text": "its API document, of `altText`: Pinterest (max 500 chars)",
        "link": 'its Pinterest page, of `link`: "Must be valid HTTPS."; Pinterest\'s own 2,048',
        "shorteners": 'its Pinterest page, of `link`: "No URL shorteners."',
        "image types": "its Pinterest page: Image formats, JPEG, PNG, WebP, GIF",
        "image size": "its Pinterest page: Image max size, 32 MB",
        "image dimensions": "its Pinterest page: Min dimensions, 100 x 100 px",
        "aspect ratios": "its Pinterest page: 2:3 Optimal, 1:1 Square Pin, 1:2.1 Long Pin (max "
        "height)",
        "video types": "its Pinterest page: Video formats, MP4, MOV",
        "video size": "its Pinterest page: Video max size, 2 GB",
        "video length": "its Pinterest page: Video duration, 4 sec - 15 min",
        "upload size": "its API document: presigned uploads take up to 5 GB",
        "cover": 'its Pinterest page: "You can optionally set a custom cover image or '
        'auto-extract a frame at a specific time."',
        "cover_frame": "its Pinterest page, of `coverImageKeyFrameTime`: number (seconds), "
        "default 0; its API document: an integer",
        "dominant_color": "no such field in its Pinterest fields",
        "section": "no such field in its Pinterest fields",
        "board ids": "Pinterest's digit ids, from GET /v1/accounts/{accountId}/pinterest-boards",
        "boards": "one `boardId` per post: each board is its own post",
        "delete": "its API document: POST /v1/posts/{postId}/unpublish; its Pinterest page lists "
        '"Edit or delete pins after creation (via Zernio)" among what it cannot do: a refusal '
        "is said, and the pin recorded as left on Pinterest",
        "scheduling": "its API document: `scheduledFor` and `timezone`, else `publishNow: true`",
    },
)


RELAYAPI_RECEIPT_DAYS = 30  # idempotency receipts are kept this long
RELAYAPI_SCHEDULE_DAYS = 30  # it schedules at most this far ahead
RELAYAPI_UPLOAD_BYTES = 200 * 1024 * 1024  # its media-uploads guide: "Max 200 MiB"

RELAYAPI = Capabilities(
    updatable=frozenset(),
    can_delete=True,
    name="RelayAPI",
    fields=frozenset({"title", "description", "link", "alt_text", "cover", "cover_frame"}),
    # Receipts are kept 30 days; a day less leaves room for clocks and long runs.
    idempotency_window=(RELAYAPI_RECEIPT_DAYS - 1) * 86400.0,
    schedules=True,
    # It schedules at most 30 days ahead; an hour less leaves room for clocks.
    schedule_horizon=RELAYAPI_SCHEDULE_DAYS * 86400.0 - 3600.0,
    text_limits=TextLimits(description=500),
    media_limits=replace(
        PINTEREST_LIMITS,
        image_types=frozenset({"image/jpeg", "image/png"}),
        quiet_aspects=frozenset({1.5, 1.0, 2.1}),
    ),
    max_upload_bytes=RELAYAPI_UPLOAD_BYTES,
    sources={
        "title": "its Pinterest page: Title limit, 100 characters",
        "description": "its Pinterest page: Description limit, 500 characters; its server "
        "refuses over 800 (CONTENT_TOO_LONG): the stricter is kept",
        "alt_text": "its API document, of target_options.pinterest `alt_text`: at most 500",
        "link": "its API document: `link`, a URI; Pinterest's own 2,048",
        "shorteners": "not stated: advice only",
        "image types": "its Pinterest page's Quick Reference: Image formats, JPEG, PNG; its Media "
        "Requirements also list WebP and GIF: the stricter is kept",
        "image size": "its Pinterest page's Quick Reference: Image max size, 20 MB; its Media "
        "Requirements say 32 MB: the stricter is kept",
        "image dimensions": "its Pinterest page: Min dimensions, 100 x 100 px",
        "aspect ratios": "its Pinterest page: Portrait 2:3, Square 1:1 (Works well in feed), Long "
        "pin 1:2.1 (Maximum vertical ratio)",
        "video types": "its Pinterest page: Video formats, MP4, MOV",
        "video size": "its Pinterest page: Video max size, 2 GB",
        "video length": "its Pinterest page: Video duration, 4 sec - 15 min",
        "upload size": "its media-uploads guide: uploads of at most 200 MiB; a URL is not uploaded",
        "cover": 'its Pinterest page: Video Pin, "Supports a custom cover image." (its server '
        "wants a cover: without one pinops sends frame 0, the first frame)",
        "cover_frame": 'its Pinterest page, of `cover_image_key_frame_time`: "Auto-extract a '
        'video frame at N seconds for the cover"',
        "dominant_color": "no such field in its target_options",
        "section": "no such field in its target_options",
        "board ids": "Pinterest's digit ids, from GET /v1/accounts/{id}/pinterest-boards",
        "boards": "one `board_id` per post: each board is its own post",
        "delete": "its API document: POST /v1/posts/{id}/unpublish",
        "scheduling": 'its API document: `scheduled_at`, ISO 8601 at most 30 days ahead, or "now"',
    },
)
