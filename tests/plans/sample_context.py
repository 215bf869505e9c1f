"""A realistic plan context (12 exercises, as the builder would produce) for PDF tests."""

from __future__ import annotations

import base64
import copy
import io
import zlib


def tiny_png(width: int = 64, height: int = 64, rgb=(47, 111, 143)) -> bytes:
    """A valid solid-colour PNG, built without Pillow so the helper has no dependencies."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n")
    out.write(
        chunk(
            b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
        )
    )
    out.write(chunk(b"IDAT", zlib.compress(raw)))
    out.write(chunk(b"IEND", b""))
    return out.getvalue()


def png_data_uri(**kwargs) -> str:
    return "data:image/png;base64," + base64.b64encode(tiny_png(**kwargs)).decode("ascii")


def _weekly(start: str, steps: list[str], weeks: int = 6) -> list[dict]:
    doses = [start, *steps]
    return [
        {"week": w, "dose_text": doses[min(w - 1, len(doses) - 1)]} for w in range(1, weeks + 1)
    ]


def _item(
    name,
    kind,
    dose,
    steps,
    cues,
    mistakes,
    targets,
    names,
    easier,
    harder,
    reason,
    notes="",
    weekly=None,
):
    return {
        "name": name,
        "kind": kind,
        "dose_text": dose,
        "steps": steps,
        "cues": cues,
        "mistakes": mistakes,
        "target_muscles": targets,
        "target_muscle_names": names,
        "easier": easier,
        "harder": harder,
        "reason": reason,
        "notes": notes,
        "weekly": weekly or _weekly(dose, []),
    }


ITEMS = [
    _item(
        "Hip thrust",
        "strength",
        "3 sets × 10 reps, 2 s squeeze at the top",
        [
            "Sit on the floor with your upper back against the edge of a bench.",
            "Place your feet flat, hip-width apart, knees bent to about 90°.",
            "Drive through your heels and lift your hips until your body is level "
            "from knees to shoulders.",
            "Squeeze your glutes for two seconds at the top.",
            "Lower slowly, taking three seconds on the way down.",
        ],
        ["Chin tucked, ribs down.", "Push the floor away through your heels."],
        ["Arching the lower back at the top.", "Letting the knees fall inwards."],
        ["glutes", "hamstrings"],
        ["Glutes", "Hamstrings"],
        "Glute bridge from the floor",
        "Single-leg hip thrust",
        "Your glutes tested weak, so your lower back does work the glutes should do.",
        "Start with body weight; add a dumbbell on the hips from week 3.",
        _weekly(
            "3 × 10, body weight",
            [
                "3 × 12, body weight",
                "3 × 10, 8 kg",
                "3 × 12, 8 kg",
                "4 × 10, 12 kg",
                "4 × 12, 12 kg",
            ],
        ),
    ),
    _item(
        "Glute bridge",
        "strength",
        "3 sets × 12 reps",
        [
            "Lie on your back with knees bent and feet close to your bottom.",
            "Press your lower back gently into the floor.",
            "Lift your hips by squeezing your glutes, not by arching your back.",
            "Pause for one breath, then lower with control.",
        ],
        ["Feel it in the glutes, not the hamstrings or back."],
        ["Pushing through the toes.", "Holding your breath."],
        ["glutes"],
        ["Glutes"],
        "Smaller range, hold for 1 s",
        "Feet on a step, marching at the top",
        "Builds the glute activation the hip thrust depends on.",
    ),
    _item(
        "Bulgarian split squat",
        "strength",
        "2 sets × 8 reps each leg",
        [
            "Stand about a stride in front of a bench and rest the top of your back foot on it.",
            "Keep your chest tall and lower straight down until the front thigh is near parallel.",
            "Push through the front heel to stand back up.",
            "Finish all reps on one side, then switch.",
        ],
        ["Front knee tracks over the middle toes.", "Slight forward lean is fine."],
        ["Front knee caving in.", "Bouncing off the bottom."],
        ["glutes", "quadriceps"],
        ["Glutes", "Quadriceps"],
        "Split squat with both feet on the floor",
        "Hold dumbbells",
        "Trains each hip on its own and shows a left–right difference.",
    ),
    _item(
        "Plank",
        "strength",
        "3 holds × 20 s",
        [
            "Rest on your forearms with elbows under your shoulders.",
            "Step your feet back so you are on your toes.",
            "Make a straight line from head to heels and brace your stomach.",
            "Breathe steadily and hold for the set time.",
        ],
        ["Squeeze glutes and thighs.", "Look at the floor just ahead of your hands."],
        ["Hips sagging.", "Hips piked high."],
        ["abdominals", "obliques"],
        ["Abdominals", "Obliques"],
        "Plank from the knees",
        "Lift one foot for 2 s at a time",
        "A weak core lets the spine move when it should stay still.",
        weekly=_weekly("3 × 20 s", ["3 × 25 s", "3 × 30 s", "3 × 35 s", "3 × 40 s", "3 × 45 s"]),
    ),
    _item(
        "Dead bug",
        "strength",
        "3 sets × 8 reps each side",
        [
            "Lie on your back with arms pointing to the ceiling and knees bent "
            "at 90° above your hips.",
            "Flatten your lower back into the floor.",
            "Slowly lower one arm behind your head and the opposite leg towards the floor.",
            "Return and repeat with the other side.",
        ],
        ["Exhale as you lower.", "Keep the lower back in contact with the floor."],
        ["Moving too fast.", "Back lifting off the floor."],
        ["abdominals"],
        ["Abdominals"],
        "Move the legs only",
        "Hold a light weight in each hand",
        "Teaches the core to stay braced while the limbs move.",
    ),
    _item(
        "Hollow body hold",
        "strength",
        "3 holds × 15 s",
        [
            "Lie on your back and press your lower back into the floor.",
            "Lift your shoulders and legs slightly off the floor.",
            "Reach your arms towards your feet and hold.",
        ],
        ["Lower back stays down the whole time."],
        ["Legs too low for your strength, so the back arches."],
        ["abdominals", "hip_flexors"],
        ["Abdominals", "Hip flexors"],
        "Knees bent (tuck hold)",
        "Arms overhead",
        "Builds strength through the whole front of the trunk.",
    ),
    _item(
        "Romanian deadlift",
        "strength",
        "3 sets × 8 reps",
        [
            "Hold a pair of dumbbells in front of your thighs.",
            "Soften your knees and push your hips back.",
            "Lower the weights along your legs until you feel a stretch in the hamstrings.",
            "Drive your hips forward to stand, squeezing your glutes.",
        ],
        ["Long spine from head to hips.", "Weights stay close to the legs."],
        ["Rounding the back.", "Bending the knees into a squat."],
        ["hamstrings", "glutes", "lower_back"],
        ["Hamstrings", "Glutes", "Lower back"],
        "Hip hinge with a broomstick",
        "Single-leg Romanian deadlift",
        "Strong hamstrings hold the pelvis steady and take load off the lower back.",
    ),
    _item(
        "Nordic curl",
        "strength",
        "2 sets × 4 reps",
        [
            "Kneel on a mat with your ankles held by a partner or under a fixed bar.",
            "Keep a straight line from knees to head.",
            "Lower your body forward as slowly as you can.",
            "Catch yourself with your hands and push back up.",
        ],
        ["Slow is the point: aim for 3 to 5 s on the way down."],
        ["Bending at the hips."],
        ["hamstrings"],
        ["Hamstrings"],
        "Partial range with a band for help",
        "Pause halfway",
        "Builds hamstring strength while the muscle lengthens.",
    ),
    _item(
        "Glute-ham raise",
        "strength",
        "2 sets × 6 reps",
        [
            "Set up on the machine with your knees just behind the pad.",
            "Lower your body until it is level with the floor.",
            "Curl yourself back up with your hamstrings and glutes.",
        ],
        ["Keep the hips straight."],
        ["Using momentum."],
        ["hamstrings", "glutes"],
        ["Hamstrings", "Glutes"],
        "Swiss-ball hamstring curl",
        "Add a weight plate held to the chest",
        "Trains the whole back chain together.",
    ),
    _item(
        "Face pull",
        "strength",
        "3 sets × 12 reps",
        [
            "Attach a rope or band at face height.",
            "Hold the ends with palms facing down and step back.",
            "Pull towards your face, elbows high, and spread the rope apart.",
            "Return slowly to the start.",
        ],
        ["Squeeze the shoulder blades together.", "Thumbs point behind you at the end."],
        ["Shrugging.", "Leaning back to pull."],
        ["rear_deltoids", "mid_back"],
        ["Rear deltoids", "Mid back"],
        "Light band",
        "Pause 2 s at the face",
        "Balances tight chest muscles and pulls the shoulders back.",
    ),
    _item(
        "Reverse fly",
        "strength",
        "3 sets × 12 reps",
        [
            "Hold light dumbbells and hinge forward with a flat back.",
            "Let your arms hang below your shoulders.",
            "Raise your arms out to the sides until level with your body.",
            "Lower with control.",
        ],
        ["Lead with the elbows."],
        ["Swinging the weights."],
        ["rear_deltoids", "mid_back"],
        ["Rear deltoids", "Mid back"],
        "Seated, chest on the thighs",
        "Pause at the top",
        "Strengthens the upper back against rounded shoulders.",
    ),
    _item(
        "Foam roll: chest and front of hip",
        "release",
        "60–90 s per area, once a day",
        [
            "Lie face down with a foam roller or ball under the front of one shoulder.",
            "Roll slowly across the chest muscle, stopping on tender spots.",
            "Move to the front of the hip and roll the hip flexors the same way.",
            "Breathe out and let the muscle soften before moving on.",
        ],
        ["Discomfort up to 4 out of 10 is fine."],
        ["Rolling too fast.", "Rolling over bone."],
        ["chest", "hip_flexors"],
        ["Chest", "Hip flexors"],
        None,
        None,
        "Releases the overactive muscles that pull you into a slouch.",
        "Do this before your strength exercises.",
    ),
]

SLUGS = [
    "hip_thrust",
    "glute_bridge",
    "bulgarian_split_squat",
    "plank",
    "dead_bug",
    "hollow_body_hold",
    "romanian_deadlift",
    "nordic_curl",
    "glute_ham_raise",
    "face_pull",
    "reverse_fly",
    "foam_roller_chest_opener",
]
for _slug, _entry in zip(SLUGS, ITEMS, strict=True):
    # The client copy's one plain sentence; the clinician copy adds the detailed reason.
    _entry.update(
        slug=_slug,
        why=_entry["reason"],
        photo_data_uri=None,
        video_url=None,
    )
    del _entry["reason"]


def _finding(text, value, threshold, severity, source="Field rule of thumb"):
    return {
        "text": text,
        "value": value,
        "threshold": threshold,
        "severity": severity,
        "source": source,
    }


CLINICIAN_FINDINGS = [
    {
        "name": "Weak glutes and an overloaded lower back",
        "severity": "marked",
        "findings": [
            _finding("Left single-leg bridge held 12 s", "12 s", "under 30 s", "marked"),
            _finding("Hip drops on single-leg stance", "yes", "a positive sign", "moderate"),
        ],
    },
    {
        "name": "Weak core and increased lower back load",
        "severity": "moderate",
        "findings": [
            _finding(
                "Front plank held 25 s",
                "25 s",
                "under 60 s",
                "moderate",
                "Published norm: McGill 2015",
            )
        ],
    },
]

SAMPLE_CONTEXT = {
    "clinic": {
        "name": "Northside Movement Clinic",
        "accent_color": "#2f6f8f",
        "logo_data_uri": png_data_uri(),
        "contact": "12 Harbour Road, Leeds LS1 4AB · 0113 496 0000 · hello@northside.example",
        "paper": "A4",
    },
    "client": {"name": "Zoë Łukasiewicz"},
    "trainer": {"name": "Søren Ødegaard", "email": "soren@northside.example"},
    "date": "25 November 2026",
    "title": "Corrective exercise plan",
    "large_print": False,
    "audience": "client",
    "program": {
        "version": 2,
        "sessions_per_week": 3,
        "weeks": 6,
        "session_minutes": 35,
        "retest_on": "6 January 2027",
    },
    "focus": [
        {
            "name": "Weak glutes and an overloaded lower back",
            "why": "Stronger glutes take work off your lower back.",
        },
        {"name": "Weak core", "why": "A stronger trunk keeps your spine steady."},
    ],
    "findings": [],
    "body_map": {
        "weak": ["glutes", "abdominals", "hamstrings", "mid_back", "rear_deltoids"],
        "overactive": ["lower_back", "hip_flexors", "chest", "upper_trapezius"],
    },
    "items": ITEMS,
    "tips": [
        {
            "title": "Posture",
            "text": "Sit tall with your feet flat; get up and move every 30 minutes.",
        },
        {
            "title": "Foam rolling",
            "text": "Roll tight areas slowly for about a minute before training.",
        },
        {
            "title": "Functional movement",
            "text": "Carry shopping evenly, squat to lift, and take the stairs.",
        },
        {
            "title": "Train weak muscles regularly",
            "text": "Little and often beats one long session: keep to your planned days.",
        },
    ],
    "changes": [
        "Plank hold increased from 15 s to 20 s.",
        "Nordic curl added for the hamstrings.",
    ],
    "safety_note": (
        "Stop any exercise that causes sharp pain, numbness or dizziness, and tell your trainer."
    ),
    "stop_signs": {
        "emergency": [
            "New trouble passing urine, or losing control of your bladder or bowels.",
            "Numbness or a strange feeling around your groin, genitals or buttocks.",
            "Weakness or numbness in your legs that is getting worse, or is in both legs.",
        ],
        "doctor": [
            "Back pain that started after a bad fall, an accident or a blow to the back.",
            "Losing weight without trying.",
            "Constant pain at night or at rest that no position eases.",
            "A fever, night sweats or feeling unwell together with the back pain.",
        ],
    },
    "not_medical_advice": "This plan supports your training; it does not replace medical advice.",
    "drawings_version": "2026.12.1",
}


def clinician_context(**overrides) -> dict:
    """The same plan as the clinician copy: findings with values and thresholds, reasons."""
    context = sample_context(**overrides)
    context["audience"] = "clinician"
    context["findings"] = copy.deepcopy(CLINICIAN_FINDINGS)
    for entry in context["items"]:
        entry["reason"] = f"{entry['name']} addresses: {entry['why'][0].lower()}{entry['why'][1:]}"
        entry["dose_reason"] = "Starting dose from the tested hold time (score 62 of 100)."
    return context


def sample_context(**overrides) -> dict:
    """A deep copy of the sample context with top-level keys replaced by ``overrides``."""
    context = copy.deepcopy(SAMPLE_CONTEXT)
    context.update(copy.deepcopy(overrides))
    return context
