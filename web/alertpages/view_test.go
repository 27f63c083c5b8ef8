package alertpages

import (
	"testing"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store/alertstore"
)

func TestSubscriberCountsPerTopic(t *testing.T) {
	comuni := []config.Comune{{ID: "firenze", Name: "Comune di Firenze", Topics: []string{"traffico", "scuole"}}, {ID: "empoli", Name: "Comune di Empoli"}}
	groups := []alertstore.SubscriberCount{
		{Comune: "firenze", Status: alertstore.SubscriberConfirmed, Topics: "", Count: 10},
		{Comune: "firenze", Status: alertstore.SubscriberConfirmed, Topics: "traffico", Count: 3},
		{Comune: "firenze", Status: alertstore.SubscriberConfirmed, Topics: "scuole,traffico", Count: 2},
		{Comune: "firenze", Status: alertstore.SubscriberPending, Topics: "scuole", Count: 4},
		{Comune: "firenze", Status: alertstore.SubscriberStopped, Topics: "", Count: 1},
		{Comune: "roma", Status: alertstore.SubscriberConfirmed, Count: 99},
	}
	got := subscriberCounts(groups, comuni)
	if len(got) != 2 || got[0].Confirmed != 15 || got[0].Pending != 4 || got[0].Stopped != 1 || got[1].Confirmed != 0 {
		t.Fatalf("%+v", got)
	}
	per := map[string]int{}
	for _, tc := range got[0].PerTopic {
		per[tc.Topic] = tc.Confirmed
	}
	if per["traffico"] != 15 || per["scuole"] != 12 {
		t.Fatalf("per topic %v", per)
	}
}
