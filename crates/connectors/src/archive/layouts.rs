//! Every platform's archive layout, as data: which files say that an archive is this
//! platform's (in this dated variant), and which reader takes which files. Rules are
//! tried in order and a file goes to the first that matches; a file no rule takes is
//! listed as not understood. A platform that renames a folder is a one-line change here
//! (add the new name to the `{...}` alternatives, or a variant above the old one).

use ferry_verticals::social::Kind;

/// One platform's layout in one period.
#[derive(Debug)]
pub struct Layout {
    pub platform: &'static str,
    /// Which period of its layout: the years it was seen in exports.
    pub variant: &'static str,
    /// Patterns that must each match at least one file for the archive to be this.
    pub signs: &'static [&'static str],
    pub rules: &'static [Rule],
}

/// Which reader takes the files a pattern matches.
#[derive(Debug)]
pub struct Rule {
    pub pattern: &'static str,
    pub reader: Reader,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reader {
    /// vCard files: one contact per person, however many group files list them.
    Contacts,
    /// iCalendar files, one calendar each.
    Calendar,
    /// mbox files with Gmail's `X-Gmail-Labels` header (labels as folders and keywords).
    GmailMbox,
    /// A Google Photos folder tree: photos and videos with their JSON sidecars in every
    /// naming variant, albums, and the same file in an album and a year folder as one item.
    GooglePhotos,
    /// Google Keep's notes, one JSON file each (the HTML beside it repeats it).
    Keep,
    /// Google Fit's sessions, one workout each.
    FitSessions,
    /// Google Fit's daily activity metrics, one summary a day.
    FitDaily,
    /// Google Tasks' `Tasks.json`: task lists and their tasks.
    GoogleTasks,
    /// Chrome's bookmarks (`Bookmarks.html`, a Netscape bookmark file).
    ChromeBookmarks,
    /// Chrome's reading list (`ReadingList.html`): bookmarks in `Reading list`.
    ChromeReadingList,
    /// Chrome's history (`History.json`, older `BrowserHistory.json`): a visit each.
    ChromeHistory,
    /// Files as they are (the files vertical): a Drive folder.
    Files,
    /// A file that repeats what another file holds (an HTML rendering, the archive's own
    /// index): listed, not counted twice. Says what it repeats.
    Repeat(&'static str),
    /// A file ferry keeps as a file, for no vertical holds what it is: says what it is.
    Kept(&'static str),
    /// Mastodon's `outbox.json`: posts and boosts, with their media beside it.
    MastodonOutbox,
    /// Mastodon's `likes.json` / `bookmarks.json`: an OrderedCollection of post URIs.
    MastodonCollection(Kind),
    /// A CSV file of Mastodon's import and export page, of one kind of relation.
    MastodonCsv(Kind),
    /// X's `tweets.js` (and `tweet.js`, `tweets-part1.js`), media from `tweets_media/`.
    XTweets,
    /// X's `like.js`.
    XLikes,
    /// X's `follower.js`, `following.js`, `block.js`, `mute.js`.
    XAccounts(Kind),
    /// X's `direct-messages.js` and `direct-messages-group.js`, media beside them.
    XDirectMessages,
    /// ChatGPT's `conversations.json`, the files it names beside it.
    ChatGpt,
    /// Claude's `conversations.json`.
    Claude,
    /// A Slack workspace export: its lists and a folder of day files per conversation.
    Slack,
    /// Spotify's `PlaylistN.json` files.
    SpotifyPlaylists,
    /// Spotify's `YourLibrary.json`.
    SpotifyLibrary,
    /// Apple Health's `export.xml`, its routes and clinical records beside it.
    AppleHealth,
    /// OFX / QFX bank statements.
    Ofx,
    /// ISO 20022 CAMT.053 statements (other XML files are given back).
    Camt,
    /// A bank's CSV statement.
    BankCsv,
    /// An order history CSV as a marketplace exports it.
    OrderCsv,
    /// Facebook's or Instagram's posts (`your_posts_1.json`, `posts_1.json`), their media
    /// from the archive paths the posts name.
    MetaPosts(Meta),
    /// Facebook's or Instagram's message threads (`messages/inbox/THREAD/message_N.json`):
    /// a thread's files together, as one conversation.
    MetaThreads(Meta),
    /// Facebook's comments (`comments.json`): posts in reply to another's.
    FacebookComments,
    /// Facebook's likes and reactions (`posts_and_comments.json`, `likes_and_reactions_N.json`).
    FacebookReactions,
    /// Facebook's friends: one followed account each (a friendship goes both ways).
    FacebookFriends,
    /// Instagram's `followers_N.json` and `following.json` (`string_list_data`).
    InstagramAccounts(Kind),
    /// Instagram's `liked_posts.json`.
    InstagramLikes,
    /// One of LinkedIn's CSV files.
    LinkedIn(LinkedInFile),
}

/// Which of Meta's platforms an archive is (their archives share their formats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Meta {
    Facebook,
    Instagram,
}

impl Meta {
    /// The platform's name in records (a conversation's `platform`).
    pub fn name(self) -> &'static str {
        match self {
            Meta::Facebook => "facebook",
            Meta::Instagram => "instagram",
        }
    }
}

/// LinkedIn's CSV files ferry reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinkedInFile {
    /// `Connections.csv`: followed accounts (a connection goes both ways).
    Connections,
    /// `messages.csv`: conversations, a row a message.
    Messages,
    /// `Shares.csv`: posts.
    Shares,
    /// `Reactions.csv`: likes.
    Reactions,
    /// `Comments.csv`: posts in reply to the post they name.
    Comments,
}

use Reader::*;

/// The photos, videos and sounds of a Meta archive that no post, comment or message read
/// attached: kept as files.
const META_MEDIA: &str = "**/*.{jpg,jpeg,png,gif,webp,heic,bmp,mp4,mov,m4v,webm,3gp,avi,mp3,m4a,aac,wav,ogg,opus}";
const META_MEDIA_WHY: Reader = Kept(
    "a photo, video or sound of the account that no item read attaches (an album's photo, a profile picture, a story; or the media of a vertical not asked for)",
);
const PROFILE_WHY: Reader = Kept("the account's profile: no vertical holds a profile");

/// A Messenger-style thread's files under `$messages`, in any of its folders (`inbox`,
/// `archived_threads`, `filtered_threads`, `message_requests`, `e2ee_cutover`); 2018's is
/// `message.json`.
macro_rules! threads {
    ($messages:literal) => {
        concat!($messages, "*/*/message{,_*}.json")
    };
}

/// Every layout ferry knows, most specific first: an archive is the first whose signs
/// all match.
pub static LAYOUTS: &[Layout] = &[
    Layout {
        platform: "Google Takeout",
        variant: "2019-2026",
        signs: &["Takeout/**"],
        rules: &[
            Rule { pattern: "Takeout/archive_browser.html", reader: Repeat("the archive's own index page, listing what it holds") },
            Rule { pattern: "Takeout/{Contacts,Kontakte,Contactos}/**/*.vcf", reader: Contacts },
            Rule { pattern: "Takeout/{Calendar,Kalender,Agenda,Calendario}/**/*.ics", reader: Calendar },
            Rule { pattern: "Takeout/{Mail,E-Mail,Correo,Courrier}/**/*.mbox", reader: GmailMbox },
            Rule { pattern: "Takeout/{Google Photos,Google Fotos}/**", reader: GooglePhotos },
            Rule { pattern: "Takeout/Keep/*.json", reader: Keep },
            Rule { pattern: "Takeout/{Tasks,Aufgaben,Tâches,Tareas}/Tasks.json", reader: GoogleTasks },
            Rule { pattern: "Takeout/Keep/*.html", reader: Repeat("an HTML rendering of the Keep note in the JSON file beside it") },
            Rule {
                pattern: "Takeout/Fit/{All Sessions,Alle Sitzungen,Toutes les sessions,Todas las sesiones}/*.json",
                reader: FitSessions,
            },
            Rule {
                pattern: "Takeout/Fit/*/{Daily activity metrics,Tägliche Aktivitätsmesswerte,Mesures d'activité quotidienne,Métricas de actividad diaria}.csv",
                reader: FitDaily,
            },
            Rule { pattern: "Takeout/{Drive,Mon Drive,Meine Ablage,Mi unidad}/**", reader: Files },
            // the folder keeps its name in every language; its files' names do not
            Rule { pattern: "Takeout/Chrome/{Bookmarks,Lesezeichen,Favoris,Marcadores}.html", reader: ChromeBookmarks },
            Rule { pattern: "Takeout/Chrome/{ReadingList,Leseliste,Liste de lecture,Lista de lectura}.html", reader: ChromeReadingList },
            Rule { pattern: "Takeout/Chrome/{History,BrowserHistory,Verlauf,Historique,Historial}.json", reader: ChromeHistory },
        ],
    },
    Layout {
        platform: "X (Twitter)",
        variant: "2019-2026",
        signs: &["data/{tweets,tweet,tweets-part*,tweet-part*}.js"],
        rules: &[
            Rule { pattern: "data/{tweets,tweet,tweets-part*,tweet-part*}.js", reader: XTweets },
            Rule { pattern: "data/{like,like-part*}.js", reader: XLikes },
            Rule { pattern: "data/{following,following-part*}.js", reader: XAccounts(Kind::Following) },
            Rule { pattern: "data/{follower,follower-part*}.js", reader: XAccounts(Kind::Follower) },
            Rule { pattern: "data/{block,block-part*}.js", reader: XAccounts(Kind::Block) },
            Rule { pattern: "data/{mute,mute-part*}.js", reader: XAccounts(Kind::Mute) },
            Rule {
                pattern: "data/{direct-messages,direct-message,direct-messages-group,direct-message-group}{,-part*}.js",
                reader: XDirectMessages,
            },
            Rule { pattern: "data/manifest.js", reader: Repeat("the archive's own table of contents") },
            Rule { pattern: "Your archive.html", reader: Repeat("the archive's own viewer page") },
            Rule { pattern: "assets/**", reader: Repeat("the archive viewer's scripts, styles and images") },
            Rule { pattern: "data/{account,profile}.js", reader: Kept("the account's profile: no vertical holds a profile") },
        ],
    },
    Layout {
        platform: "Facebook",
        variant: "2024-2026",
        signs: &["your_facebook_activity/**"],
        rules: &[
            Rule { pattern: "your_facebook_activity/posts/your_posts*.json", reader: MetaPosts(Meta::Facebook) },
            Rule { pattern: threads!("your_facebook_activity/messages/"), reader: MetaThreads(Meta::Facebook) },
            Rule { pattern: "your_facebook_activity/comments_and_reactions/comments.json", reader: FacebookComments },
            Rule {
                pattern: "your_facebook_activity/comments_and_reactions/{likes_and_reactions,likes_and_reactions_*,posts_and_comments}.json",
                reader: FacebookReactions,
            },
            Rule { pattern: "connections/friends/{your_friends,friends}.json", reader: FacebookFriends },
            Rule { pattern: "personal_information/profile_information/profile_information.json", reader: PROFILE_WHY },
            Rule { pattern: META_MEDIA, reader: META_MEDIA_WHY },
        ],
    },
    Layout {
        platform: "Instagram",
        variant: "2024-2026",
        signs: &["your_instagram_activity/**"],
        rules: &[
            Rule { pattern: "your_instagram_activity/content/posts_*.json", reader: MetaPosts(Meta::Instagram) },
            Rule { pattern: threads!("your_instagram_activity/messages/"), reader: MetaThreads(Meta::Instagram) },
            Rule { pattern: "connections/followers_and_following/followers*.json", reader: InstagramAccounts(Kind::Follower) },
            Rule { pattern: "connections/followers_and_following/following.json", reader: InstagramAccounts(Kind::Following) },
            Rule { pattern: "your_instagram_activity/likes/liked_posts.json", reader: InstagramLikes },
            Rule { pattern: "personal_information/personal_information/personal_information.json", reader: PROFILE_WHY },
            Rule { pattern: META_MEDIA, reader: META_MEDIA_WHY },
        ],
    },
    Layout {
        platform: "Facebook",
        variant: "2018-2023",
        // top folders only Facebook's older archives have (Instagram's have `comments`, `messages` too)
        signs: &[
            "{posts,profile_information,friends,friends_and_followers,likes_and_reactions,comments_and_reactions,photos_and_videos}/**",
        ],
        rules: &[
            Rule { pattern: "posts/your_posts*.json", reader: MetaPosts(Meta::Facebook) },
            Rule { pattern: threads!("messages/"), reader: MetaThreads(Meta::Facebook) },
            Rule { pattern: "{comments,comments_and_reactions}/comments.json", reader: FacebookComments },
            Rule {
                pattern: "{likes_and_reactions,comments_and_reactions}/{posts_and_comments,likes_and_reactions,likes_and_reactions_*}.json",
                reader: FacebookReactions,
            },
            Rule { pattern: "{friends,friends_and_followers}/friends.json", reader: FacebookFriends },
            Rule { pattern: "profile_information/profile_information.json", reader: PROFILE_WHY },
            Rule { pattern: META_MEDIA, reader: META_MEDIA_WHY },
        ],
    },
    Layout {
        platform: "Instagram",
        variant: "2020-2023",
        signs: &["{content,followers_and_following}/**"],
        rules: &[
            Rule { pattern: "content/posts_*.json", reader: MetaPosts(Meta::Instagram) },
            Rule { pattern: threads!("messages/"), reader: MetaThreads(Meta::Instagram) },
            Rule { pattern: "followers_and_following/followers*.json", reader: InstagramAccounts(Kind::Follower) },
            Rule { pattern: "followers_and_following/following.json", reader: InstagramAccounts(Kind::Following) },
            Rule { pattern: "likes/liked_posts.json", reader: InstagramLikes },
            Rule { pattern: "personal_information/personal_information.json", reader: PROFILE_WHY },
            Rule { pattern: META_MEDIA, reader: META_MEDIA_WHY },
        ],
    },
    Layout {
        // "Download your information" with messages only: Instagram's older ones look the
        // same, and are read as Facebook's
        platform: "Facebook Messenger",
        variant: "messages only, 2018-2023",
        signs: &[threads!("messages/")],
        rules: &[
            Rule { pattern: threads!("messages/"), reader: MetaThreads(Meta::Facebook) },
            Rule { pattern: META_MEDIA, reader: META_MEDIA_WHY },
        ],
    },
    Layout {
        platform: "LinkedIn",
        variant: "2018-2026",
        signs: &["{Connections,Profile}.csv"],
        rules: &[
            Rule { pattern: "Connections.csv", reader: LinkedIn(LinkedInFile::Connections) },
            Rule { pattern: "messages.csv", reader: LinkedIn(LinkedInFile::Messages) },
            Rule { pattern: "Shares.csv", reader: LinkedIn(LinkedInFile::Shares) },
            Rule { pattern: "Reactions.csv", reader: LinkedIn(LinkedInFile::Reactions) },
            Rule { pattern: "Comments.csv", reader: LinkedIn(LinkedInFile::Comments) },
            Rule { pattern: "Profile.csv", reader: PROFILE_WHY },
        ],
    },
    Layout {
        platform: "Mastodon",
        variant: "2017-2026",
        signs: &["outbox.json", "actor.json"],
        rules: &[
            Rule { pattern: "outbox.json", reader: MastodonOutbox },
            Rule { pattern: "likes.json", reader: MastodonCollection(Kind::Like) },
            Rule { pattern: "bookmarks.json", reader: MastodonCollection(Kind::Bookmark) },
            Rule { pattern: "following_accounts.csv", reader: MastodonCsv(Kind::Following) },
            Rule { pattern: "blocked_accounts.csv", reader: MastodonCsv(Kind::Block) },
            Rule { pattern: "muted_accounts.csv", reader: MastodonCsv(Kind::Mute) },
            Rule { pattern: "blocked_domains.csv", reader: MastodonCsv(Kind::DomainBlock) },
            Rule { pattern: "lists.csv", reader: MastodonCsv(Kind::List) },
            Rule { pattern: "actor.json", reader: Kept("the account's profile (name, bio, fields): no vertical holds a profile") },
            Rule { pattern: "{avatar,header}.*", reader: Kept("the account's profile picture or header image") },
        ],
    },
    Layout {
        platform: "ChatGPT",
        variant: "2023-2026",
        signs: &["conversations.json", "chat.html"],
        rules: &[
            Rule { pattern: "conversations.json", reader: ChatGpt },
            Rule { pattern: "chat.html", reader: Repeat("an HTML rendering of conversations.json") },
            Rule { pattern: "user.json", reader: Kept("the account's profile: no vertical holds a profile") },
        ],
    },
    Layout {
        platform: "Claude",
        variant: "2024-2026",
        signs: &["conversations.json", "users.json"],
        rules: &[
            Rule { pattern: "conversations.json", reader: Claude },
            Rule { pattern: "users.json", reader: Kept("the account's profile: no vertical holds a profile") },
            Rule { pattern: "projects.json", reader: Kept("projects and their documents: no vertical holds them") },
        ],
    },
    Layout {
        platform: "Slack",
        variant: "2016-2026",
        signs: &["channels.json", "users.json"],
        rules: &[Rule { pattern: "**", reader: Slack }],
    },
    Layout {
        platform: "Spotify",
        variant: "2018-2026",
        signs: &["**/YourLibrary.json"],
        rules: &[
            Rule { pattern: "**/Playlist*.json", reader: SpotifyPlaylists },
            Rule { pattern: "**/YourLibrary.json", reader: SpotifyLibrary },
            Rule { pattern: "**/{Userdata,Identity}.json", reader: Kept("the account's profile: no vertical holds a profile") },
            Rule { pattern: "**/Read_Me_First.pdf", reader: Kept("Spotify's description of the archive") },
        ],
    },
    Layout {
        platform: "Apple Health",
        variant: "2015-2026",
        signs: &["**/export.xml"],
        rules: &[
            Rule { pattern: "**/export.xml", reader: AppleHealth },
            Rule { pattern: "**/export_cda.xml", reader: Repeat("export.xml's samples again, as an HL7 CDA document") },
        ],
    },
    Layout {
        platform: "Amazon order history",
        variant: "2020-2026",
        signs: &["**/Retail.OrderHistory.*.csv"],
        rules: &[Rule { pattern: "**/Retail.OrderHistory.*.csv", reader: OrderCsv }],
    },
    Layout {
        platform: "Bank statements",
        variant: "OFX, CAMT.053, CSV",
        signs: &["**/*.{ofx,qfx,xml,csv}"],
        rules: &[
            Rule { pattern: "**/*.{ofx,qfx}", reader: Ofx },
            Rule { pattern: "**/*.xml", reader: Camt },
            Rule { pattern: "**/*.csv", reader: BankCsv },
        ],
    },
];

/// The layout an archive of these files is, if any.
pub fn recognise(mut paths: impl FnMut(&str) -> bool) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.signs.iter().all(|s| paths(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_and_sign_is_a_pattern_a_file_can_match() {
        for l in LAYOUTS {
            assert!(!l.signs.is_empty(), "{}", l.platform);
            for r in l.rules {
                assert!(!r.pattern.starts_with('/') && !r.pattern.contains(".."), "{}: {}", l.platform, r.pattern);
                assert_eq!(r.pattern.matches('{').count(), r.pattern.matches('}').count(), "{}", r.pattern);
            }
        }
    }

    #[test]
    fn each_meta_and_linkedin_variant_is_told_apart() {
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json", "connections/friends/your_friends.json"],
                "Facebook",
                "2024-2026",
            ),
            (
                &["your_instagram_activity/content/posts_1.json", "connections/followers_and_following/following.json"],
                "Instagram",
                "2024-2026",
            ),
            (&["posts/your_posts_1.json", "messages/inbox/ann_1/message_1.json", "comments/comments.json"], "Facebook", "2018-2023"),
            (&["profile_information/profile_information.json"], "Facebook", "2018-2023"),
            (
                &[
                    "content/posts_1.json",
                    "messages/inbox/ann_1/message_1.json",
                    "comments/post_comments.json",
                    "personal_information/personal_information.json",
                ],
                "Instagram",
                "2020-2023",
            ),
            (&["messages/inbox/ann_1/message_1.json", "messages/stickers_used/s.png"], "Facebook Messenger", "messages only, 2018-2023"),
            (&["messages/inbox/ann_1/message.json"], "Facebook Messenger", "messages only, 2018-2023"),
            (&["Connections.csv", "messages.csv", "Skills.csv"], "LinkedIn", "2018-2026"),
        ];
        for (paths, platform, variant) in cases {
            let l = recognise(|sign| paths.iter().any(|p| crate::archive::glob::Glob::new(sign).matches(p))).expect("recognised");
            assert_eq!((l.platform, l.variant), (*platform, *variant), "{paths:?}");
        }
        assert!(recognise(|sign| crate::archive::glob::Glob::new(sign).matches("messages/inbox/ann_1/photos/1.jpg")).is_none());
    }
}
